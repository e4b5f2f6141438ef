/**
 * Metrics as CloudWatch Embedded Metric Format lines in the function's log (no SDK call, no extra
 * latency: CloudWatch Logs extracts them). One line per measurement, written to stdout beside the
 * JSON log lines. On in Lambda; locally only with PROVISIONER_METRICS=1, so `npm start` and the
 * tests' output are not a metric per request.
 */

/** THE metric names: the code emits them and the stack's alarms read them. */
export const metricNamespace = 'Provisioner';
export const metricNames = {
  /** Every API request, per operation and in total. */
  requests: 'Requests',
  /** Answers of 5xx, per operation and in total (the alarm's numerator). */
  serverErrors: 'ServerErrors',
  /** Milliseconds from the request's arrival to its answer, per operation. */
  latency: 'Latency',
  /** Error answers by operation and code. */
  errors: 'Errors',
  /** How long a deploy, destroy, run or workbench start took, from its intent to its settled state. */
  operationDuration: 'OperationDuration',
  /** Items in a transitional state past the operation timeout (the janitor's count). */
  stuckItems: 'StuckItems',
} as const;

type Unit = 'Count' | 'Milliseconds' | 'Seconds';
interface Measure {
  name: (typeof metricNames)[keyof typeof metricNames];
  unit: Unit;
  value: number;
}

/** Dimension values are our own names (an operation, an error code, an area): never user input. */
type Dimensions = Record<string, string>;

function enabled(): boolean {
  return process.env.AWS_LAMBDA_FUNCTION_NAME !== undefined || process.env.PROVISIONER_METRICS === '1';
}

/**
 * One EMF line: the measures, published under each of `dimensionSets` (each a list of the keys of
 * `dimensions`; `[]` publishes the measure without dimensions, for totals).
 */
export function emitMetrics(measures: Measure[], dimensions: Dimensions = {}, dimensionSets: string[][] = [Object.keys(dimensions)]): void {
  if (!enabled() || measures.length === 0) return;
  const line = {
    _aws: {
      Timestamp: Date.now(),
      CloudWatchMetrics: [{ Namespace: metricNamespace, Dimensions: dimensionSets, Metrics: measures.map((m) => ({ Name: m.name, Unit: m.unit })) }],
    },
    ...dimensions,
    ...Object.fromEntries(measures.map((m) => [m.name, m.value])),
  };
  process.stdout.write(`${JSON.stringify(line)}\n`);
}

/** A request's answer: counted per operation and in total; errors by code; 5xx for the alarm. */
export function requestMetrics(operation: string, status: number, ms: number, errorCode?: string): void {
  emitMetrics(
    [
      { name: metricNames.requests, unit: 'Count', value: 1 },
      { name: metricNames.serverErrors, unit: 'Count', value: status >= 500 ? 1 : 0 },
      { name: metricNames.latency, unit: 'Milliseconds', value: Math.round(ms) },
    ],
    { Operation: operation },
    [['Operation'], []],
  );
  if (errorCode) emitMetrics([{ name: metricNames.errors, unit: 'Count', value: 1 }], { Operation: operation, Code: errorCode });
}

/** A long operation settled: `what` is deploy, destroy, run or workbench-start; `outcome` how it ended. */
export function operationDuration(what: 'deploy' | 'destroy' | 'run' | 'workbench-start', startedAt: string | undefined, endedAt: Date, outcome: string): void {
  const started = startedAt === undefined ? NaN : Date.parse(startedAt);
  if (Number.isNaN(started)) return;
  emitMetrics([{ name: metricNames.operationDuration, unit: 'Seconds', value: Math.max(0, (endedAt.getTime() - started) / 1000) }], { Operation: what, Outcome: outcome });
}

/** The janitor's count of stuck items (a gauge: the alarm fires while it is above 0). */
export function stuckItemsMetric(count: number): void {
  emitMetrics([{ name: metricNames.stuckItems, unit: 'Count', value: count }], {}, [[]]);
}
