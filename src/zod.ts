/**
 * zod/mini, the tree-shakable build (a few KB bundled, against 450 KB for classic zod), with English
 * messages. Runtime code imports zod from here only, as a namespace (`import * as z`): re-exporting
 * one namespace object would defeat tree-shaking and pull in every locale.
 */
import { config } from 'zod/mini';
import { en } from 'zod/locales';

config(en());

export * from 'zod/mini';
