import { execFileSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { describe, expect, it } from '@jest/globals';
import { parseCatalog } from '../../src/domain/catalog.js';
import { bounded, maxFieldLength, notificationBody, reminderOffsets, remindersBefore, webhookUrlProblem } from '../../src/domain/notifications.js';
import { signBody } from '../../src/operations/notifications/notify.js';
import { testCatalog } from '../support/local-api.js';

const withWebhooks = (webhooks: unknown) => JSON.stringify({ ...testCatalog, notifications: { webhooks } });

describe('the notifications catalog section', () => {
  it('defaults to no webhook', () => {
    expect(parseCatalog(JSON.stringify(testCatalog), 'c.json').notifications).toEqual({ webhooks: [] });
  });

  it('takes https URLs, and http only to a loopback host', () => {
    const ok = [
      { url: 'https://hooks.slack.com/services/T0/B0/x', events: ['expiring'] },
      { url: 'http://127.0.0.1:8080/hook', events: ['failed', 'degraded', 'stuck'] },
      { url: 'http://localhost/hook', events: ['stuck'] },
      { url: 'http://[::1]:9000/', events: ['failed'] },
    ];
    expect(parseCatalog(withWebhooks(ok), 'c.json').notifications.webhooks).toEqual(ok);
  });

  it.each([
    ['http://hooks.example.com/x', 'plain http to a host that is not loopback'],
    ['http://127.0.0.1.example.com/x', 'a name that only starts like loopback'],
    ['ftp://example.com/x', 'another scheme'],
    ['https://user:secret@example.com/x', 'credentials in the URL'],
    ['not a url', 'no URL at all'],
  ])('refuses %s (%s), naming the field', (url) => {
    expect(() => parseCatalog(withWebhooks([{ url: 'https://ok.example.com', events: ['failed'] }, { url, events: ['failed'] }]), 'bad.json')).toThrow(
      /bad\.json.*notifications\.webhooks\.1\.url: must be an https URL, or http to a loopback host/,
    );
  });

  it('refuses unknown events, no events, and unknown fields', () => {
    expect(() => parseCatalog(withWebhooks([{ url: 'https://a.example.com', events: ['deleted'] }]), 'c.json')).toThrow(/notifications\.webhooks\.0\.events\.0/);
    expect(() => parseCatalog(withWebhooks([{ url: 'https://a.example.com', events: [] }]), 'c.json')).toThrow(/notifications\.webhooks\.0\.events/);
    expect(() => parseCatalog(withWebhooks([{ url: 'https://a.example.com', events: ['failed'], secret: 'x' }]), 'c.json')).toThrow(/notifications\.webhooks\.0/);
  });

  it('explains each refused URL', () => {
    expect(webhookUrlProblem('http://example.com')).toMatch(/https/);
    expect(webhookUrlProblem('https://u:p@example.com')).toMatch(/credentials/);
    expect(webhookUrlProblem('https://example.com/x')).toBeUndefined();
  });
});

describe('a delivery', () => {
  const notification = { event: 'failed' as const, kind: 'cluster' as const, id: 'demo', name: 'demo', text: 'Cluster demo: the deployment failed: capacity', details: { reason: 'capacity' } };

  it('has a Slack-compatible body (text first) with only the fields it has', () => {
    expect(JSON.parse(notificationBody(notification))).toEqual({ text: notification.text, event: 'failed', kind: 'cluster', id: 'demo', name: 'demo', details: { reason: 'capacity' } });
    expect(Object.keys(JSON.parse(notificationBody(notification)))[0]).toBe('text');
  });

  it('cuts a long text or reason, so that it fits a schedule\'s input', () => {
    const long = 'x'.repeat(20_000);
    const cut = bounded({ ...notification, text: long, details: { reason: long, nodes: 3 } });
    expect(cut.text).toHaveLength(maxFieldLength);
    expect(cut.details).toEqual({ reason: `${'x'.repeat(maxFieldLength - 1)}…`, nodes: 3 });
    expect(bounded(notification)).toEqual(notification);
  });

  it('is signed with HMAC-SHA256 of the exact body bytes, as a Python receiver verifies it', () => {
    const body = notificationBody({ ...notification, text: 'Cluster démo — failed' });
    const signature = signBody('s3cret', body);
    expect(signature).toBe(`sha256=${createHmac('sha256', 's3cret').update(Buffer.from(body, 'utf8')).digest('hex')}`);
    // The Python check docs/notifications.md gives, run on the same bytes.
    const python = [
      'import hashlib, hmac, sys',
      'body = sys.stdin.buffer.read()',
      'expected = "sha256=" + hmac.new(b"s3cret", body, hashlib.sha256).hexdigest()',
      `print(hmac.compare_digest(expected, "${signature}"))`,
    ].join('\n');
    expect(execFileSync('python3', ['-c', python], { input: Buffer.from(body, 'utf8') }).toString().trim()).toBe('True');
  });
});

describe('reminders', () => {
  const now = new Date('2026-11-23T12:00:00Z');
  it('are made only for times still ahead', () => {
    const inThreeDays = new Date(now.getTime() + 72 * 3_600_000);
    expect(remindersBefore(inThreeDays, reminderOffsets.destroy, now).map((r) => r.label)).toEqual(['24h', '1h']);
    const inTwoHours = new Date(now.getTime() + 2 * 3_600_000);
    expect(remindersBefore(inTwoHours, reminderOffsets.destroy, now).map((r) => [r.label, r.at.toISOString()])).toEqual([['1h', '2026-11-23T13:00:00.000Z']]);
    expect(remindersBefore(new Date(now.getTime() + 10 * 60_000), reminderOffsets.autoStop, now)).toEqual([]);
  });
});
