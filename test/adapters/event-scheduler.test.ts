import { beforeEach, describe, it } from '@jest/globals';
import { CreateScheduleCommand, SchedulerClient, ValidationException } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
// The matchers extend the global expect (typed by @types/jest), so these files use that one.
import 'aws-sdk-client-mock-jest';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';

/** Issue 21.2/21.3/21.14/21.15: the minute asked for, a time already past, the dead-letter queue. */
describe('EventBridge Scheduler adapter: when and where a firing goes', () => {
  const client = mockClient(SchedulerClient);
  let now = new Date('2026-11-23T18:00:00.000Z');
  const scheduler = new EventBridgeScheduler(
    {
      groupName: 'provisioner',
      roleArn: 'arn:aws:iam::123456789012:role/scheduler',
      targets: { destroy: 'arn:aws:lambda:us-east-1:123456789012:function:destroy' },
      deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:dead-letters',
      clock: { now: () => now },
    },
    (sdk) => new sdk.SchedulerClient({ region: 'us-east-1' }),
  );
  const destroyAt = (at: Date) => scheduler.schedule({ name: 'destroy-acme-dev-a1b2c3', at, target: 'destroy', payload: { cluster: 'acme-dev', schedule_id: 'a1b2c3' } });
  const invalid = (message: string) => new ValidationException({ message, $metadata: {} } as never);
  const expressions = () => client.commandCalls(CreateScheduleCommand).map((call) => call.args[0].input.ScheduleExpression);

  beforeEach(() => {
    client.reset();
    now = new Date('2026-11-23T18:00:00.000Z');
  });

  it('rounds up to the whole minute, so an early firing (≤ 60 s) is never earlier than 60 s before the time', async () => {
    client.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await destroyAt(new Date('2026-11-23T18:30:00.001Z'));
    await destroyAt(new Date('2026-11-23T18:30:59.000Z'));
    await destroyAt(new Date('2026-11-23T18:31:00.000Z'));
    expect(expressions()).toEqual(['at(2026-11-23T18:31:00)', 'at(2026-11-23T18:31:00)', 'at(2026-11-23T18:31:00)']);
  });

  it('sends a firing it cannot deliver to the dead-letter queue, after retries', async () => {
    client.on(CreateScheduleCommand).resolves({ ScheduleArn: 'arn' });
    await destroyAt(new Date('2026-11-23T18:30:00Z'));
    expect(client).toHaveReceivedCommandWith(CreateScheduleCommand, {
      Target: expect.objectContaining({
        RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
        DeadLetterConfig: { Arn: 'arn:aws:sqs:us-east-1:123456789012:dead-letters' },
      }) as never,
    });
  });

  it('answers the ValidationException of a time already past, or passed meanwhile, with the next whole minute, never an error', async () => {
    const pastTime = invalid('The provided schedule expression is in the past.');
    client.on(CreateScheduleCommand).rejectsOnce(pastTime).resolvesOnce({ ScheduleArn: 'arn' }).rejectsOnce(pastTime).resolves({ ScheduleArn: 'arn' });
    now = new Date('2026-11-23T18:01:30.000Z');
    // Due an hour ago (a deadline check re-armed late), then a minute that passed while the call was under way.
    await expect(destroyAt(new Date('2026-11-23T17:00:00Z'))).resolves.toBeUndefined();
    await expect(destroyAt(new Date('2026-11-23T18:00:40Z'))).resolves.toBeUndefined();
    expect(expressions()).toEqual(['at(2026-11-23T17:00:00)', 'at(2026-11-23T18:02:00)', 'at(2026-11-23T18:01:00)', 'at(2026-11-23T18:02:00)']);
  });

  it('asks a minute later when the next whole minute is too close to reach the Scheduler in time', async () => {
    client.on(CreateScheduleCommand).rejectsOnce(invalid('The provided schedule expression is in the past.')).resolves({ ScheduleArn: 'arn' });
    now = new Date('2026-11-23T18:01:55.000Z');
    await destroyAt(new Date('2026-11-23T18:01:10Z'));
    expect(expressions()).toEqual(['at(2026-11-23T18:02:00)', 'at(2026-11-23T18:03:00)']);
  });

  it('passes on a ValidationException that is not about the time', async () => {
    client.on(CreateScheduleCommand).rejects(invalid('Invalid input'));
    await expect(destroyAt(new Date('2026-11-23T18:30:00Z'))).rejects.toThrow('Invalid input');
    expect(client).toHaveReceivedCommandTimes(CreateScheduleCommand, 1);
  });
});
