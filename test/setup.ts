// Every test file starts on the adapter configuration of this run (test/adapter.ts).
import { initForTests } from './adapter.js';

await initForTests();
