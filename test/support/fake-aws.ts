import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DescribeInstancesCommand, EC2Client, type Instance, RunInstancesCommand, TerminateInstancesCommand } from '@aws-sdk/client-ec2';
import { ConflictException, CreateScheduleCommand, DeleteScheduleCommand, ResourceNotFoundException, SchedulerClient } from '@aws-sdk/client-scheduler';
import { mockClient } from 'aws-sdk-client-mock';
import type { Clock } from '../../src/domain/clock.js';

/** When an injected fault strikes: before the call takes effect, or after it did (the answer is lost). */
export type FaultTiming = 'before' | 'after';

/** Faults queued per operation name; each call of that operation takes the next one. */
export class Faults {
  private readonly queued = new Map<string, { error: Error; when: FaultTiming }[]>();

  /** The next `times` calls of `operation` fail with `error`. */
  next(operation: string, error: Error, { when = 'before', times = 1 }: { when?: FaultTiming; times?: number } = {}): void {
    const list = this.queued.get(operation) ?? [];
    for (let i = 0; i < times; i++) list.push({ error, when });
    this.queued.set(operation, list);
  }

  clear(): void {
    this.queued.clear();
  }

  /** Runs one call of `operation` under the queued faults. */
  async run<T>(operation: string, effect: () => T | Promise<T>): Promise<T> {
    const fault = this.queued.get(operation)?.shift();
    if (fault?.when === 'before') throw fault.error;
    const result = await effect();
    if (fault) throw fault.error;
    return result;
  }
}

/** What a timed-out or reset connection looks like when the SDK gives up on it. */
export const timeout = () => Object.assign(new Error('Connection timed out after 3000 ms'), { name: 'TimeoutError' });
export const socketReset = () => Object.assign(new Error('socket hang up'), { code: 'ECONNRESET' });
/** A service's error as the SDK deserializes it: its name and HTTP status. */
export const awsError = (name: string, status: number) => Object.assign(new Error(`${name} (simulated)`), { name, $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status } });

/**
 * Injects faults into a DynamoDB client by command name (`GetItemCommand`, `PutItemCommand`,
 * `UpdateItemCommand`, `QueryCommand`, ...), ahead of the SDK's own retries, as if they were exhausted.
 */
export function injectDynamoFaults(client: DynamoDBClient): Faults {
  const faults = new Faults();
  client.middlewareStack.add((next, context) => (args) => faults.run(context.commandName ?? '', () => next(args)), { step: 'initialize', name: 'injectFaults' });
  return faults;
}

/**
 * A tiny EC2 behind aws-sdk-client-mock: RunInstances (idempotent on ClientToken, tagged, launched
 * now), DescribeInstances (tag and state filters) and TerminateInstances, each under `faults`.
 */
export class FakeEc2 {
  readonly mock = mockClient(EC2Client);
  readonly faults = new Faults();
  readonly instances = new Map<string, Instance>();
  private readonly launches = new Map<string, string[]>();
  private nextId = 1;

  constructor(private readonly clock: Clock) {
    this.install();
  }

  install(): void {
    this.mock.reset();
    this.mock.on(RunInstancesCommand).callsFake((input) =>
      this.faults.run('RunInstances', () => {
        const token = String(input.ClientToken);
        if (!this.launches.has(token)) {
          const tags = input.TagSpecifications?.find((t: { ResourceType: string }) => t.ResourceType === 'instance')?.Tags ?? [];
          const ids = Array.from({ length: input.MinCount as number }, () => {
            const id = `i-${String(this.nextId++).padStart(8, '0')}`;
            this.instances.set(id, { InstanceId: id, State: { Name: 'running' }, Tags: tags, LaunchTime: this.clock.now(), PrivateIpAddress: `10.0.0.${this.nextId}` });
            return id;
          });
          this.launches.set(token, ids);
        }
        return { Instances: (this.launches.get(token) ?? []).map((id) => this.instances.get(id)) };
      }),
    );
    this.mock.on(DescribeInstancesCommand).callsFake((input) =>
      this.faults.run('DescribeInstances', () => {
        const matches = (instance: Instance) =>
          (input.Filters ?? []).every(({ Name, Values }: { Name: string; Values: string[] }) =>
            Name === 'instance-state-name' ? Values.includes(instance.State?.Name ?? '') : Values.includes(instance.Tags?.find((t) => `tag:${t.Key}` === Name)?.Value ?? ''),
          );
        return { Reservations: [{ Instances: [...this.instances.values()].filter(matches).map((i) => structuredClone(i)) }] };
      }),
    );
    this.mock.on(TerminateInstancesCommand).callsFake((input) =>
      this.faults.run('TerminateInstances', () => {
        for (const id of input.InstanceIds ?? []) {
          const instance = this.instances.get(id);
          if (instance) instance.State = { Name: 'terminated' };
        }
        return {};
      }),
    );
  }

  /** Instances not terminated, with their deployment tag. */
  alive(): { id: string; cluster?: string; deployment?: string }[] {
    const tag = (i: Instance, key: string) => i.Tags?.find((t) => t.Key === key)?.Value;
    return [...this.instances.values()]
      .filter((i) => i.State?.Name !== 'terminated')
      .map((i) => ({ id: i.InstanceId ?? '', cluster: tag(i, 'provisioner:cluster'), deployment: tag(i, 'provisioner:deployment') }));
  }

  /** Every instance ever started, as the mock saw RunInstances. */
  started(): string[] {
    return [...this.launches.values()].flat();
  }
}

export interface FakeSchedule {
  name: string;
  at: string;
  arn: string;
  payload: Record<string, string>;
}

/** EventBridge Scheduler behind aws-sdk-client-mock: schedules by name, Conflict and NotFound as the service answers them. */
export class FakeEventBridge {
  readonly mock = mockClient(SchedulerClient);
  readonly faults = new Faults();
  readonly schedules = new Map<string, FakeSchedule>();

  constructor() {
    this.install();
  }

  install(): void {
    this.mock.reset();
    this.mock.on(CreateScheduleCommand).callsFake((input) =>
      this.faults.run('CreateSchedule', () => {
        if (this.schedules.has(input.Name)) throw new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
        this.schedules.set(input.Name, { name: input.Name, at: input.ScheduleExpression, arn: input.Target.Arn, payload: JSON.parse(input.Target.Input) });
        return { ScheduleArn: `arn:aws:scheduler:::schedule/${input.Name}` };
      }),
    );
    this.mock.on(DeleteScheduleCommand).callsFake((input) =>
      this.faults.run('DeleteSchedule', () => {
        if (!this.schedules.delete(input.Name)) throw new ResourceNotFoundException({ message: 'gone', Message: 'gone', $metadata: {} });
        return {};
      }),
    );
  }
}
