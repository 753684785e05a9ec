// Preloaded into a server under P5 (NODE_OPTIONS="--import <this file>"), so the benchmark can settle the heap
// before reading the process's RSS without any hook in the server itself. SIGUSR2 (unused by Node; SIGUSR1
// would start the inspector) asks V8 through an in-process inspector session for every collectable byte back:
// unlike gc() from --expose-gc, this also shrinks the young generation and releases freed pages, which
// otherwise only V8's idle-time memory reducer does, seconds later, and would land in the wrong sample.
import { Session } from 'node:inspector';

const session = new Session();
session.connect();
process.on('SIGUSR2', () => session.post('HeapProfiler.collectGarbage'));
