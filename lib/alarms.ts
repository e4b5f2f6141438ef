import { Duration, Stack } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, Metric, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { type ITopic, Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import { Construct } from 'constructs';
import { metricNames, metricNamespace } from '../src/metrics.js';

export interface AlarmsProps {
  /** An existing SNS topic for the alarms; without it the stack creates one. */
  alarmTopicArn?: string;
  /** An e-mail address subscribed to the created topic (it must confirm the subscription). */
  alarmEmail?: string;
  /** Alarms made elsewhere that notify the same topic (the dead-letter queue's). */
  alarms: Alarm[];
}

/**
 * The operators' alarms, all notifying one SNS topic: the API's 5xx rate and the stuck items (from
 * the Embedded Metric Format lines the functions log, src/metrics.ts), Lambda throttles, and the
 * dead-letter queue's (lib/dead-letters.ts).
 */
export class Alarms extends Construct {
  readonly topic: ITopic;

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    this.topic = props.alarmTopicArn ? Topic.fromTopicArn(this, 'Topic', props.alarmTopicArn) : this.createTopic(props.alarmEmail);
    const metric = (name: string) => new Metric({ namespace: metricNamespace, metricName: name, statistic: 'Sum', period: Duration.minutes(5) });
    const alarms = [
      new Alarm(this, 'ServerErrorRate', {
        alarmDescription: 'Provisioner: more than 5% of API requests answered 5xx over 5 minutes (at least 20 requests).',
        metric: new MathExpression({
          expression: 'IF(requests >= 20, 100 * errors / requests, 0)',
          usingMetrics: { requests: metric(metricNames.requests), errors: metric(metricNames.serverErrors) },
          period: Duration.minutes(5),
          label: '5xx %',
        }),
        threshold: 5,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      new Alarm(this, 'StuckItems', {
        alarmDescription: 'Provisioner: an item has been in a transitional state past the operation timeout (GET /v1/admin/overview lists it; docs/operations.md says what to do).',
        // The janitor counts them hourly.
        metric: new Metric({ namespace: metricNamespace, metricName: metricNames.stuckItems, statistic: 'Maximum', period: Duration.hours(1) }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      // Region-wide: one alarm instead of one per function (about 50); a throttle anywhere in the
      // account's region slows Provisioner too, since functions share the concurrency quota.
      new Alarm(this, 'LambdaThrottles', {
        alarmDescription: 'Provisioner: Lambda throttled invocations in this region (the account concurrency quota is reached).',
        metric: new Metric({ namespace: 'AWS/Lambda', metricName: 'Throttles', statistic: 'Sum', period: Duration.minutes(5) }),
        threshold: 0,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
      ...props.alarms,
    ];
    for (const alarm of alarms) alarm.addAlarmAction(new SnsAction(this.topic));
  }

  /** An encrypted, TLS-only topic; CloudWatch may publish to it (its key lets it). */
  private createTopic(email: string | undefined): Topic {
    const key = new Key(this, 'TopicKey', { enableKeyRotation: true, description: 'Provisioner: encrypts the alarm topic' });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const topic = new Topic(this, 'Topic', { displayName: `${Stack.of(this).stackName} alarms`, masterKey: key, enforceSSL: true });
    if (email) topic.addSubscription(new EmailSubscription(email));
    return topic;
  }
}
