/**
 * Who a data directory belongs to: a core node and an agent each write their name and cluster
 * into their storage at the first start and check them at every later one, so that a directory
 * is never started under another identity (its records carry that identity's writer ids and
 * ring or ledger state). A record that is damaged or of the wrong shape stops the start and
 * stays as it is: writing a new one would hide whose data this is.
 */
import { DamagedRecordError, type Storage } from './storage.js';

export interface DirOwner {
  readonly name: string;
  readonly cluster: string;
}

function isOwner(x: unknown): x is DirOwner {
  return typeof x === 'object' && x !== null && typeof (x as DirOwner).name === 'string' && typeof (x as DirOwner).cluster === 'string';
}

/**
 * Claims the directory for `me` if it has no owner yet (store `storeName`, key `['identity']`),
 * else checks that `me` is its owner. Returns undefined when `me` may start, or the sentence
 * saying why not. `role` names the kind of process in that sentence ("node", "agent").
 */
export async function claimDataDir(storage: Storage, storeName: string, me: DirOwner, wallMs: number, where: { dataDir: string; db: string; role: string }): Promise<string | undefined> {
  const store = storage.store<unknown>(storeName);
  let owner: unknown;
  try {
    owner = store.get(['identity']);
  } catch (err) {
    if (err instanceof DamagedRecordError) return `storage ${where.db}: the ${where.role}'s identity record is damaged (${err.message}); restore the data directory from a backup`;
    throw err;
  }
  if (owner === undefined) {
    await store.put(['identity'], { name: me.name, cluster: me.cluster, createdAt: new Date(wallMs).toISOString() });
    return undefined;
  }
  if (!isOwner(owner)) return `storage ${where.db}: the ${where.role}'s identity record is not valid (expected a name and a cluster); restore the data directory from a backup`;
  if (owner.name === me.name && owner.cluster === me.cluster) return undefined;
  return `data directory ${where.dataDir} belongs to ${where.role} ${owner.name} of cluster ${owner.cluster}; start with --name ${owner.name} --cluster ${owner.cluster}, or use another --data`;
}
