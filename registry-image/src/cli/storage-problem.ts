/**
 * Why `perch serve` could not open its storage (FsStore.init: create the folders, clear tmp/,
 * remove orphan uploads), in one sentence for the operator: the folder, the user perch runs
 * as, the error code, and the fix where the code has a usual one. The usual cause is a volume the container's user may not
 * write: the image runs as 65532:65532, and a fresh hostPath folder or a PVC without the
 * pod's fsGroup belongs to root.
 */

export interface StorageProblem {
  /** The failure code, e.g. EACCES. */
  code: string;
  /** What the log line says: path, user, code and fix. */
  error: string;
}

/** The operator's account of a storage-opening failure, or undefined for an error that is not the file system's. */
export function storageProblem(root: string, err: unknown): StorageProblem | undefined {
  const { code, path } = err as NodeJS.ErrnoException;
  if (typeof code !== 'string' || !/^E[A-Z]+$/.test(code)) return undefined;
  // Numeric, as Kubernetes' runAsUser and fsGroup are; Windows has neither.
  const uid = process.getuid?.();
  const gid = process.getgid?.();
  const user = uid === undefined ? 'this user' : `uid ${uid} gid ${gid}`;
  const owner = uid === undefined ? 'USER:GROUP' : `${uid}:${gid}`;
  // The file that failed, when it is not the root itself (e.g. ROOT/blobs).
  const where = path && path !== root ? `${code} at ${path}` : code;
  const head = `storage.rootDirectory ${root} cannot be written by ${user} (${where})`;
  const fix = why(code, root, owner);
  return { code, error: fix ? `${head}: ${fix}` : head };
}

/** The cause and the fix, for the codes that have a usual one. */
function why(code: string, root: string, owner: string): string | undefined {
  switch (code) {
    case 'EACCES':
    case 'EPERM':
      return (
        `make the folder owned by and writable for that user, e.g. chown -R ${owner} ${root}, ` +
        `or on Kubernetes set the pod's securityContext.fsGroup (a hostPath volume ignores fsGroup: chown the host folder)`
      );
    case 'EROFS':
      return 'its file system is read-only: mount a writable volume there (on Kubernetes a PersistentVolumeClaim or emptyDir, not readOnly), or point storage.rootDirectory at one';
    case 'ENOTDIR':
    case 'EEXIST':
      return 'part of that path is a file, not a folder: point storage.rootDirectory at a folder';
    case 'ENOSPC':
    case 'EDQUOT':
      return 'no space is left: free some on its file system or give it a larger volume';
    default:
      return undefined;
  }
}
