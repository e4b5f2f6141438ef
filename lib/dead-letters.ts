import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaFunction, type LambdaFunctionProps } from 'aws-cdk-lib/aws-events-targets';
import type { IGrantable } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';

/** How often a rule or a schedule retries delivering an event, and for how long. */
export const deliveryRetries = { attempts: 5, maxAge: Duration.hours(1) };
/** How often Lambda retries an asynchronous invocation whose function failed (its default, said out loud). */
const asyncRetries = 2;

/**
 * Where every timed or event-driven call that failed for good ends up: one encrypted, TLS-only SQS
 * queue, kept 14 days, with an alarm as soon as a message waits (notifying the stack's alarm topic, lib/alarms.ts). Schedules (the standing ones and
 * those the functions make), rule targets and the asynchronous invocations of their functions all
 * point here, so a timed destroy that never ran is seen rather than lost.
 */
export class DeadLetters extends Construct {
  readonly queue: Queue;
  readonly alarm: Alarm;

  constructor(scope: Construct, id: string) {
    super(scope, id);
    this.queue = new Queue(this, 'Queue', { encryption: QueueEncryption.SQS_MANAGED, enforceSSL: true, retentionPeriod: Duration.days(14) });
    Validations.of(this.queue).acknowledge({ id: 'AwsSolutions-SQS3', reason: 'This queue is the dead-letter queue of the schedules, rules and asynchronous invocations; nothing consumes it but an operator.' });
    this.alarm = new Alarm(this, 'Waiting', {
      alarmDescription: 'Provisioner: a schedule, rule or asynchronous invocation failed for good; its event waits in the dead-letter queue.',
      metric: this.queue.metricApproximateNumberOfMessagesVisible({ period: Duration.minutes(5), statistic: 'Maximum' }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }

  /** An EventBridge rule target invoking `fn`, retried (by default as schedules are) and then dead-lettered here. */
  ruleTarget(fn: IFunction, options: Omit<LambdaFunctionProps, 'deadLetterQueue'> = {}): LambdaFunction {
    return new LambdaFunction(fn, { retryAttempts: deliveryRetries.attempts, maxEventAge: deliveryRetries.maxAge, ...options, deadLetterQueue: this.queue });
  }

  /** An asynchronous invocation of `fn` that still fails after Lambda's retries lands here. */
  receiveFailures(fn: IFunction): void {
    fn.configureAsyncInvoke({ onFailure: new SqsDestination(this.queue), retryAttempts: asyncRetries });
  }

  /** Lets a role that delivers events (the scheduler's) put them here. */
  grantSend(grantee: IGrantable): void {
    this.queue.grantSendMessages(grantee);
  }
}
