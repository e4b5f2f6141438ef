import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import { CreateScheduleGroupCommand, GetScheduleCommand, ListSchedulesCommand, SchedulerClient } from '@aws-sdk/client-scheduler';
import { EventBridgeScheduler } from '../../src/adapters/aws/event-scheduler.js';
import { type Moto, startMoto } from '../support/moto.js';

/**
 * Issue 21, part 3: the real Scheduler adapter against moto's EventBridge Scheduler (the real SDK
 * serializes every call and parses every answer). moto stores schedules but never fires them.
 * moto accepts an at() already past, which AWS refuses (ValidationException): test/adapters/event-scheduler.test.ts covers that.
 */
describe('EventBridge Scheduler adapter against moto', () => {
  let moto: Moto;
  let client: SchedulerClient;
  const group = 'provisioner-schedules';
  const targets = {
    destroy: 'arn:aws:lambda:us-east-1:123456789012:function:destroy',
    'check-deadline': 'arn:aws:lambda:us-east-1:123456789012:function:check-deadline',
  };
  const options = {
    groupName: group,
    roleArn: 'arn:aws:iam::123456789012:role/provisioner-scheduler',
    targets,
    deadLetterArn: 'arn:aws:sqs:us-east-1:123456789012:provisioner-dead-letters',
    clock: { now: () => new Date('2026-11-23T18:00:00Z') },
  };
  let scheduler: EventBridgeScheduler;
  const read = (name: string) => client.send(new GetScheduleCommand({ Name: name, GroupName: group }));

  beforeAll(async () => {
    moto = await startMoto();
    client = new SchedulerClient(moto.clientConfig);
    scheduler = new EventBridgeScheduler(options, (sdk) => new sdk.SchedulerClient(moto.clientConfig));
  });
  afterAll(() => moto.stop());
  beforeEach(async () => {
    await moto.reset();
    // The stack creates the group; here the test does.
    await client.send(new CreateScheduleGroupCommand({ Name: group }));
  });

  it('creates a one-time UTC schedule in the group, at the whole minute at or after the time, that runs once, on time, and deletes itself', async () => {
    await scheduler.schedule({ name: 'destroy-acme-dev-a1b2c3', at: new Date('2026-11-23T18:30:12.500Z'), target: 'destroy', payload: { cluster: 'acme-dev', schedule_id: 'a1b2c3' } });
    const schedule = await read('destroy-acme-dev-a1b2c3');
    expect(schedule).toMatchObject({
      Name: 'destroy-acme-dev-a1b2c3',
      GroupName: group,
      ScheduleExpression: 'at(2026-11-23T18:31:00)',
      ScheduleExpressionTimezone: 'UTC',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ActionAfterCompletion: 'DELETE',
      State: 'ENABLED',
    });
    expect(schedule.Target).toEqual({
      Arn: targets.destroy,
      RoleArn: options.roleArn,
      Input: JSON.stringify({ cluster: 'acme-dev', schedule_id: 'a1b2c3' }),
      RetryPolicy: { MaximumRetryAttempts: 5, MaximumEventAgeInSeconds: 3600 },
      DeadLetterConfig: { Arn: options.deadLetterArn },
    });
  });

  it('counts a name that already exists as created, keeping the first schedule', async () => {
    const call = { name: 'check-acme-dev-k1', target: 'check-deadline' as const, payload: { cluster: 'acme-dev', check_id: 'k1' } };
    await scheduler.schedule({ ...call, at: new Date('2026-11-23T18:10:00Z') });
    // A retried request (or a second container) asks again under the same name.
    await expect(scheduler.schedule({ ...call, at: new Date('2026-11-23T18:20:00Z') })).resolves.toBeUndefined();
    expect((await read(call.name)).ScheduleExpression).toBe('at(2026-11-23T18:10:00)');
    const listed = await client.send(new ListSchedulesCommand({ GroupName: group }));
    expect(listed.Schedules?.map((s) => s.Name)).toEqual([call.name]);
  });

  it('deletes a schedule, and counts one already gone (fired and deleted, or never made) as deleted', async () => {
    await scheduler.schedule({ name: 'destroy-acme-dev-b2', at: new Date('2026-11-23T19:00:00Z'), target: 'destroy', payload: { cluster: 'acme-dev', schedule_id: 'b2' } });
    await scheduler.cancel('destroy-acme-dev-b2');
    await expect(read('destroy-acme-dev-b2')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(scheduler.cancel('destroy-acme-dev-b2')).resolves.toBeUndefined();
    await expect(scheduler.cancel('never-made')).resolves.toBeUndefined();
  });
});
