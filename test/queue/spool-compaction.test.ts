// The disk spool over long runs: its files stay a small multiple of what is pending (compacted while running, safely
// at every step), load() reads them a chunk at a time, skips records it cannot trust, and a disk that is full at
// start leaves the spool failed (memory only) instead of the node refusing every message.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, test } from 'node:test';
import type { PublishRequest } from '../../src/lib/mqtt/connection';
import { Publisher, type PublishTransport } from '../../src/lib/publish/publisher';
import { DiskSpool, readCompleteLines, SPOOL_COMPACT_MIN_BYTES, type SpoolFs } from '../../src/lib/queue/spool';

const made: string[] = [];
const tmpDir = (): string => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nrst-spool-compact-'));
  made.push(dir);
  return dir;
};
after(() => {
  for (const dir of made) fs.rmSync(dir, { recursive: true, force: true });
});
const fileSize = (dir: string, name: string): number => {
  try {
    return fs.statSync(path.join(dir, name)).size;
  } catch {
    return 0;
  }
};
const spoolBytes = (dir: string): number => fileSize(dir, 'messages.jsonl') + fileSize(dir, 'settled.log');
const payloadOf = (n: number): Buffer => Buffer.from(`${n}:`.padEnd(150, 'x'));
const numberOf = (r: PublishRequest): number => Number(r.payload.toString().split(':')[0]);
const req = (n: number): PublishRequest => ({ topic: 'plant/line1/temp', payload: payloadOf(n), qos: 1, retain: false });
const disconnected: PublishTransport = {
  connected: false,
  send: () => assert.fail('nothing is sent while the broker is away'),
};

/** The size of the messages file holding only what is pending: what load() leaves. */
function pendingBytesOnReload(dir: string): { bytes: number; numbers: number[]; seqs: number[] } {
  const s = new DiskSpool(dir);
  const back = s.load();
  s.close();
  return { bytes: fileSize(dir, 'messages.jsonl'), numbers: back.map((m) => numberOf(m.request)), seqs: back.map((m) => m.seq) };
}

// Limit 10 with the default minimum: the files stay near that minimum instead of growing by every message. Limit 200
// with a small minimum: they stay within three times the pending records (compacting more often costs fsyncs).
for (const { limit, minBytes } of [{ limit: 10, minBytes: undefined }, { limit: 200, minBytes: 16 * 1024 }]) {
  test(`spool: an outage with drop-oldest (limit ${limit}, 20,000 messages) keeps the files bounded${minBytes ? ' by 3x the pending records' : ''}; the pending ones survive a restart in order`, () => {
    const dir = tmpDir();
    const spool = new DiskSpool(dir, minBytes ? { compactMinBytes: minBytes } : {});
    const dropped: number[] = [];
    const pub = new Publisher<number>(disconnected, { maxCount: limit, maxBytes: 1 << 24, policy: 'drop-oldest' }, {
      sent: () => assert.fail('nothing is sent'),
      notSent: (n) => dropped.push(n ?? -1),
      changed: () => undefined,
    }, spool);
    let largest = 0;
    const total = 20_000;
    for (let n = 0; n < total; n++) {
      pub.submit(req(n), 166, n);
      largest = Math.max(largest, spoolBytes(dir));
    }
    assert.equal(dropped.length, total - limit);
    assert.equal(spool.pendingCount, limit);
    pub.close();
    const { bytes, numbers, seqs } = pendingBytesOnReload(dir);
    assert.deepEqual(numbers, Array.from({ length: limit }, (_, i) => total - limit + i), 'the newest ones, in order');
    assert.deepEqual(seqs, Array.from({ length: limit }, (_, i) => total - limit + 1 + i), 'with their seq numbers');
    const record = bytes / limit;
    const bound = Math.max(minBytes ?? SPOOL_COMPACT_MIN_BYTES, 3 * bytes) + 2 * record;
    assert.ok(largest <= bound, `at most ${bound} bytes on disk at any time, saw ${largest} (pending ${bytes})`);
    if (minBytes) assert.ok(3 * bytes > minBytes, 'the bound here is the ratio, not the minimum');
    assert.ok(largest < (total * record) / 4, 'far below what every message written would take');
    assert.ok(spool.compactionCount > 0, 'compacted while running');
  });
}

test('spool: steady pipelined traffic (the pending count never reaches zero) keeps the files within 3x the pending records', () => {
  const dir = tmpDir();
  const spool = new DiskSpool(dir, { compactMinBytes: 16 * 1024 });
  spool.load();
  let largest = 0;
  const window = 100;
  const total = 20_000;
  for (let n = 1; n <= total; n++) {
    spool.append({ seq: n, request: req(n), bytes: 166 });
    if (n > window) spool.settle(n - window);
    largest = Math.max(largest, spoolBytes(dir));
  }
  assert.equal(spool.pendingCount, window);
  const compactions = spool.compactionCount;
  spool.close();
  const { bytes, seqs } = pendingBytesOnReload(dir);
  assert.deepEqual(seqs, Array.from({ length: window }, (_, i) => total - window + 1 + i));
  assert.ok(3 * bytes > 16 * 1024, 'the bound here is the ratio, not the minimum');
  assert.ok(largest <= 3 * bytes + (2 * bytes) / window, `bounded: saw ${largest} bytes, pending ${bytes}`);
  assert.ok(compactions > 0, 'compacted while running');
});

/** A tiny deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

test('spool: random appends, out-of-order settles and restarts across many compactions keep exactly the pending messages, in order', () => {
  const dir = tmpDir();
  const rnd = random(7);
  const model = new Map<number, number>(); // seq -> payload number
  let spool = new DiskSpool(dir, { compactMinBytes: 2048 });
  let next = 1;
  let compactions = 0;
  const check = (): void => {
    compactions += spool.compactionCount;
    spool.close();
    spool = new DiskSpool(dir, { compactMinBytes: 2048 });
    const back = spool.load();
    const want = [...model.keys()].sort((a, b) => a - b);
    assert.deepEqual(back.map((m) => m.seq), want);
    for (const m of back) assert.equal(numberOf(m.request), model.get(m.seq));
    // Seq numbers go on from the highest pending one, as the publisher does.
    next = Math.max(0, ...want) + 1;
  };
  spool.load();
  for (let op = 0; op < 6000; op++) {
    const pending = [...model.keys()];
    if (pending.length === 0 || rnd() < 0.52) {
      const n = Math.floor(rnd() * 1e6);
      assert.equal(spool.append({ seq: next, request: req(n), bytes: 166 }), true);
      model.set(next++, n);
    } else {
      const seq = pending[Math.floor(rnd() * Math.min(pending.length, 8))]; // acknowledgements a little out of order
      spool.settle(seq);
      model.delete(seq);
    }
    if (op % 997 === 996) check();
  }
  check();
  compactions += spool.compactionCount;
  spool.close();
  assert.ok(compactions >= 5, `compacted several times (${compactions})`);
});

function enospc(): Error {
  return Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' });
}

/** The real file system with every call counted; from call `failAt` on, calls fail (only that one, or all: a crash). */
function countingFs(): { fs: SpoolFs; calls: string[]; failAt: number; crash: boolean } {
  const state = {
    calls: [] as string[],
    failAt: Infinity,
    crash: false,
    fs: undefined as unknown as SpoolFs,
  };
  const step = (name: string): void => {
    state.calls.push(name);
    const i = state.calls.length;
    if (i === state.failAt || (state.crash && i > state.failAt)) throw enospc();
  };
  state.fs = {
    mkdirSync: (d, o) => fs.mkdirSync(d, o),
    existsSync: (f) => fs.existsSync(f),
    openSync: (f, flags, mode) => {
      step(`open ${f.endsWith('.jsonl') || f.endsWith('.log') || f.endsWith('.tmp') ? path.basename(f) : 'dir'} ${flags}`);
      return fs.openSync(f, flags, mode);
    },
    readSync: (fd, b, off, len, pos) => fs.readSync(fd, b, off, len, pos),
    writeSync: (fd, data) => {
      step('write');
      return fs.writeSync(fd, data);
    },
    renameSync: (a, b) => {
      step('rename');
      fs.renameSync(a, b);
    },
    unlinkSync: (f) => {
      step('unlink');
      fs.unlinkSync(f);
    },
    ftruncateSync: (fd, len) => {
      step('ftruncate');
      fs.ftruncateSync(fd, len);
    },
    fsyncSync: (fd) => {
      step('fsync');
      fs.fsyncSync(fd);
    },
    closeSync: (fd) => {
      step('close');
      fs.closeSync(fd);
    },
  };
  return state;
}

test('spool: a failure or a crash at any step of a compaction leaves files that load the same pending messages', () => {
  const total = 30;
  // Settle 1, 2, ... until one settle compacts; the same run is then repeated with a failure at each step of it.
  const run = (disk: ReturnType<typeof countingFs> | undefined, failStep: number): { trigger: number; steps: string[]; failures: Error[]; dir: string } => {
    const dir = tmpDir();
    const failures: Error[] = [];
    const spool = new DiskSpool(dir, { compactMinBytes: 4096, ...(disk ? { fs: disk.fs } : {}), onFailure: (e) => failures.push(e) });
    spool.load();
    for (let n = 1; n <= total; n++) spool.append({ seq: n, request: req(n), bytes: 166 });
    let trigger = 0;
    let steps: string[] = [];
    for (let n = 1; n <= total && trigger === 0; n++) {
      const before = disk?.calls.length ?? 0;
      if (disk && n === triggerSeq) disk.failAt = before + failStep;
      spool.settle(n);
      if (spool.compactionCount > 0 || failures.length > 0) {
        trigger = n;
        steps = disk ? disk.calls.slice(before) : [];
      }
    }
    if (disk) disk.failAt = Infinity;
    if (disk) disk.crash = false;
    spool.close();
    return { trigger, steps, failures, dir };
  };
  let triggerSeq = 0;
  const dry = run(countingFs(), Infinity);
  assert.ok(dry.trigger > 1 && dry.trigger < total, `a settle compacts (${dry.trigger})`);
  triggerSeq = dry.trigger;
  assert.deepEqual(run(countingFs(), Infinity).steps, dry.steps);
  const stepsOfCompaction = dry.steps.length;
  assert.ok(stepsOfCompaction >= 8, `the compaction's steps: ${dry.steps.join(', ')}`);
  const afterTrigger = Array.from({ length: total - triggerSeq }, (_, i) => triggerSeq + 1 + i);
  for (const crash of [false, true]) {
    for (let step = 1; step <= stepsOfCompaction; step++) {
      const disk = countingFs();
      disk.crash = crash;
      const r = run(disk, step);
      const what = `${crash ? 'crash' : 'failure'} at step ${step} (${dry.steps[step - 1]})`;
      const back = pendingBytesOnReload(r.dir).seqs;
      // The settle's own line is its first step: failing there, that message is simply still pending.
      const want = step === 1 ? [triggerSeq, ...afterTrigger] : afterTrigger;
      assert.deepEqual(back, want, what);
      assert.ok(r.failures.length <= 1, `reported at most once: ${what}`);
    }
  }
});

test('readCompleteLines: records spanning chunk boundaries, multi-byte text, a torn last line and over-long lines', () => {
  const dir = tmpDir();
  const file = path.join(dir, 'lines');
  const lines = ['', 'a', '温度 °C', 'x'.repeat(40), '{"s":1,"t":"温/度","p":"cDE="}', 'é'.repeat(9), 'end'];
  fs.writeFileSync(file, lines.join('\n') + '\ntorn, no newline');
  for (const chunkBytes of [1, 2, 3, 5, 7, 16, 64, 1 << 20]) {
    const seen: string[] = [];
    const { tooLong } = readCompleteLines(fs, file, (l) => seen.push(l), { chunkBytes });
    assert.deepEqual(seen, lines, `chunks of ${chunkBytes}`);
    assert.equal(tooLong, 0);
  }
  // Lines over the limit are counted and skipped up to their newline; the next one is read as usual.
  for (const chunkBytes of [1, 4, 13, 1 << 20]) {
    const seen: string[] = [];
    const { tooLong } = readCompleteLines(fs, file, (l) => seen.push(l), { chunkBytes, maxLineBytes: 18 });
    assert.deepEqual(seen, ['', 'a', '温度 °C', 'é'.repeat(9), 'end'], `chunks of ${chunkBytes}`);
    assert.equal(tooLong, 2);
  }
  fs.writeFileSync(file, '');
  assert.deepEqual(readCompleteLines(fs, file, () => assert.fail('no line')), { tooLong: 0 });
});

test('spool: load() reads a messages file of many chunks, and skips (and counts) records it cannot trust', () => {
  const dir = tmpDir();
  const good = (s: number, extra = ''): string => `{"s":${s},"t":"t/${s}","p":"${Buffer.from(`p${s}`).toString('base64')}","q":1,"r":false${extra}}`;
  const bad = [
    '{"s":1.5,"t":"t","p":"","q":1}',
    '{"s":"2","t":"t","p":"","q":1}',
    '{"s":9007199254740993,"t":"t","p":"","q":1}',
    '{"s":0,"t":"t","p":"","q":1}',
    '{"s":1e400,"t":"t","p":"","q":1}',
    good(50, ',"o":[1]'),
    good(51, ',"o":"x"'),
    good(52, ',"o":null'),
    good(53, ',"o":{"correlationData":5}'),
    '[1,2]',
    'null',
    'not json',
  ];
  const many = Array.from({ length: 30_000 }, (_, i) => good(100 + i)); // about 2 MB: more than one read
  const text = [good(3, ',"o":{"contentType":"x","correlationData":"Y2Q="}'), ...bad, ...many].join('\n') + '\n' + good(99999).slice(0, 10);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, 'messages.jsonl'), text);
  fs.writeFileSync(path.join(dir, 'settled.log'), '100\n101\n10');
  const spool = new DiskSpool(dir);
  const back = spool.load();
  spool.close();
  assert.deepEqual(back.slice(0, 3).map((m) => m.seq), [3, 102, 103], '100 and 101 settled; a torn "10" settles nothing');
  assert.equal(spool.skipped, bad.length, 'each bad record counted; the torn last line is not');
  assert.equal(back.length, 1 + many.length - 2);
  assert.equal(back[0].request.properties?.contentType, 'x');
  assert.equal(back[0].request.properties?.correlationData?.toString(), 'cd');
  assert.equal(back[1].request.payload.toString(), 'p102');
  assert.equal(back[back.length - 1].seq, 100 + many.length - 1);
});

test('spool: a disk full at start (the rewrite fails) leaves the spool failed, memory only, with the messages still loaded and on disk', () => {
  const dir = tmpDir();
  const first = new DiskSpool(dir);
  first.load();
  for (let n = 1; n <= 3; n++) first.append({ seq: n, request: req(n), bytes: 166 });
  first.settle(2);
  first.close();
  for (const failing of ['open messages.jsonl.tmp w', 'write', 'fsync', 'rename', 'ftruncate', 'open messages.jsonl a']) {
    const disk = countingFs();
    const wrapped: SpoolFs = {
      ...disk.fs,
      openSync: (f, flags, mode) => {
        if (`open ${path.basename(f)} ${flags}` === failing) throw enospc();
        return disk.fs.openSync(f, flags, mode);
      },
      writeSync: (fd, data) => (failing === 'write' ? assert.fail(enospc()) : disk.fs.writeSync(fd, data)),
      fsyncSync: (fd) => (failing === 'fsync' ? assert.fail(enospc()) : disk.fs.fsyncSync(fd)),
      renameSync: (a, b) => (failing === 'rename' ? assert.fail(enospc()) : disk.fs.renameSync(a, b)),
      ftruncateSync: (fd, len) => (failing === 'ftruncate' ? assert.fail(enospc()) : disk.fs.ftruncateSync(fd, len)),
    };
    const failures: Error[] = [];
    const spool = new DiskSpool(dir, { fs: wrapped, onFailure: (e) => failures.push(e) });
    const sent: number[] = [];
    const pub = new Publisher<number>({ connected: true, send: (_r, settle) => settle(undefined, { reasonCode: 0 }) }, { maxCount: 10, maxBytes: 1e9, policy: 'drop-oldest' }, {
      sent: (n) => sent.push(n ?? -1),
      notSent: () => assert.fail('nothing refused'),
      changed: () => undefined,
    }, spool);
    assert.equal(failures.length, 1, `${failing}: reported once`);
    assert.deepEqual(pub.stats.queued, 2, `${failing}: both pending messages restored`);
    assert.equal(spool.append({ seq: 9, request: req(9), bytes: 166 }), false, `${failing}: new messages stay in memory`);
    pub.submit(req(10), 166, 10);
    pub.pump();
    assert.deepEqual(sent, [-1, -1, 10], `${failing}: restored ones first, then the new one`);
    pub.close();
    // Nothing was settled on disk after the failure: the next start has them again (duplicates, not losses).
    assert.deepEqual(pendingBytesOnReload(dir).seqs, [1, 3], failing);
  }
});
