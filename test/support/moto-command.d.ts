/** The path of `moto_server` on PATH, or undefined. */
export function motoCommand(): string | undefined;
