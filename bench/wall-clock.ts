// Wall-clock milliseconds with sub-millisecond resolution, comparable across the benchmark's processes.
import { performance } from 'node:perf_hooks';

export const wallNow = (): number => performance.timeOrigin + performance.now();
