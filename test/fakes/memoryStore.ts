import { MemoryStore as CoreMemoryStore } from '../../src/core/loop/memoryStore';
import { GENESIS_HASH, hashEntry } from '../../src/infra/store/auditLog';

/** The core's in-memory store with the file store's hash chain, so audit assertions read as in production. */
export class MemoryStore extends CoreMemoryStore {
  constructor() {
    super(hashEntry, GENESIS_HASH);
  }
}
