/** Durations as people write them in the catalog and the API: "90s", "90m", "4h", "2d". */
const units = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
export const durationPattern = /^([1-9]\d{0,5})([smhd])$/;
/** What a bad duration is told, wherever one is read. */
export const durationRule = 'must be a duration such as "90m", "4h" or "2d"';

export function parseDuration(text: string): number | undefined {
  const match = durationPattern.exec(text);
  if (!match) return undefined;
  return Number(match[1]) * units[match[2] as keyof typeof units];
}
