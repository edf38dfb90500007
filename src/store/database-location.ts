import { existsSync, mkdirSync, rmdirSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';

/** Why a SQLite store cannot live where it was asked to: the folder, the file, or what the file holds. */
export type DatabaseLocationProblem = 'folder' | 'file' | 'not-a-database' | 'damaged';

/** A SQLite store that could not be opened at `path`; `reason` is a few words, fit to follow the path. */
export class DatabaseLocationError extends Error {
  override readonly name = 'DatabaseLocationError';
  constructor(
    readonly problem: DatabaseLocationProblem,
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path} ${reason}`, options);
  }
}

/** A folder that could not be made; `reason` is a few words, fit to follow the path. */
export class FolderError extends Error {
  override readonly name = 'FolderError';
  constructor(
    readonly path: string,
    readonly reason: string,
    options?: ErrorOptions,
  ) {
    super(`${path} ${reason}`, options);
  }
}

/**
 * Creates `folder` and its missing parents one level at a time and returns those it created,
 * outermost first. Not `mkdirSync(…, { recursive: true })`: under /proc, where mkdir answers
 * ENOENT for a folder whose parent exists, Node's recursive mkdir retries forever at full CPU.
 * On failure (a FolderError) nothing it created is left behind.
 */
export function createFolders(folder: string): string[] {
  const missing: string[] = [];
  let existing = resolve(folder);
  while (!existsSync(existing)) {
    missing.unshift(existing);
    const parent = dirname(existing);
    if (parent === existing) break;
    existing = parent;
  }
  if (existsSync(existing) && !statSync(existing).isDirectory()) {
    throw new FolderError(existing, 'is a file, not a folder');
  }
  const created: string[] = [];
  for (const path of missing) {
    try {
      mkdirSync(path);
    } catch (error) {
      removeFolders(created);
      throw new FolderError(path, `cannot be created (${describeFileSystemError(error)})`, { cause: error });
    }
    created.push(path);
  }
  return created;
}

/** Removes folders {@link createFolders} made (innermost first), as long as they are still empty. */
export function removeFolders(created: readonly string[]): void {
  for (const path of [...created].reverse()) {
    try {
      rmdirSync(path);
    } catch {
      // Something else put a file there since: it stays, and so does its folder.
    }
  }
}

/** A few words for a failed file-system call, without a stack or a syscall name. */
export function describeFileSystemError(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT':
      return 'the system allows no folder there';
    case 'EACCES':
    case 'EPERM':
      return 'permission denied';
    case 'EROFS':
      return 'read-only file system';
    case 'ENOTDIR':
      return 'part of the path is a file';
    case 'ENOSPC':
      return 'no space left on the device';
    default:
      return typeof code === 'string' ? code : error instanceof Error ? error.message : String(error);
  }
}

/** Sorts a failure to open or set up a SQLite file into what the owner can do about it. */
export function databaseFileError(path: string, error: unknown): DatabaseLocationError {
  if (error instanceof FolderError) return new DatabaseLocationError('folder', error.path, error.reason, { cause: error });
  const raw = (error as { code?: unknown } | null)?.code;
  const code = typeof raw === 'string' ? raw : '';
  if (code === 'SQLITE_NOTADB') return new DatabaseLocationError('not-a-database', path, 'is not a SQLite database', { cause: error });
  if (code === 'SQLITE_CORRUPT') return new DatabaseLocationError('damaged', path, 'is damaged', { cause: error });
  if (code === 'SQLITE_READONLY' || code.startsWith('SQLITE_READONLY_') || code === 'SQLITE_PERM') {
    return new DatabaseLocationError('file', path, 'cannot be written (read-only)', { cause: error });
  }
  if (code === 'EACCES' || code === 'EPERM' || code === 'EROFS') {
    return new DatabaseLocationError('file', path, `cannot be written (${describeFileSystemError(error)})`, { cause: error });
  }
  if (code === 'SQLITE_CANTOPEN' || code.startsWith('SQLITE_CANTOPEN_')) return new DatabaseLocationError('file', path, 'cannot be created or opened', { cause: error });
  const detail = error instanceof Error ? error.message : String(error);
  return new DatabaseLocationError('file', path, `cannot be used (${detail})`, { cause: error });
}
