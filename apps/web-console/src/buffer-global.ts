// The generated contracts (ts-proto with env=node) decode `bytes` fields with Buffer.from. Browsers have
// no Buffer: the `buffer` package (the Node API for browsers) stands in, installed before any decoding.
import { Buffer } from 'buffer';

const scope = globalThis as { Buffer?: unknown };
scope.Buffer ??= Buffer;
