import * as z from '../zod.js';
import { checkDeadline, type ClusterDeps, scheduledDestroy } from './clusters.js';

/** What the destroy schedules carry. */
export const scheduledDestroyInput = z.object({ cluster: z.string(), schedule_id: z.string() });
/** What the deadline checks carry. */
export const deadlineCheckInput = z.object({ cluster: z.string(), check_id: z.string() });

export const runScheduledDestroy = (event: z.output<typeof scheduledDestroyInput>, deps: ClusterDeps, actor: Parameters<typeof scheduledDestroy>[1]) =>
  scheduledDestroy(deps, actor, event.cluster, event.schedule_id);

export const runDeadlineCheck = async (event: z.output<typeof deadlineCheckInput>, deps: ClusterDeps, actor: Parameters<typeof checkDeadline>[1]) =>
  (await checkDeadline(deps, actor, event.cluster, event.check_id)).status;
