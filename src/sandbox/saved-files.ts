import { mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, extname, isAbsolute, join, relative } from 'node:path';
import { dataDirectoryFor } from '../domain/exports/download-links.js';
import { CONTROL_CHARACTERS } from '../shared/input-fields.js';

/** `sandbox` in the data folder; an in-memory database has none, so the system temp dir. */
export function sandboxFilesDirectoryFor(databaseLocation: string): string {
  if (databaseLocation === ':memory:') return join(tmpdir(), 'customer-desk-sandbox');
  return join(dataDirectoryFor(databaseLocation), 'sandbox');
}

export interface SavableAttachment {
  id: string;
  filename: string;
  data: Buffer;
}

/**
 * Writes the files the bot sends (exports, charts, avatars) where the person at the prompt can
 * open them: one folder per message, `<dir>/<message id>/<file name>`. A message edited with a
 * new file of the same name gets `name-2.ext` rather than losing the first; printing the same
 * message again reuses what was written.
 */
export class AttachmentSaver {
  private readonly saved = new Map<string, string>();

  constructor(private readonly directory: string) {}

  /** The path shown for `attachment` of message `messageId`, written on first sight. */
  save(messageId: string, attachment: SavableAttachment): string {
    const known = this.saved.get(attachment.id);
    if (known) return known;
    const folder = join(this.directory, safeName(messageId));
    mkdirSync(folder, { recursive: true });
    const name = safeName(attachment.filename);
    const extension = extname(name);
    const stem = name.slice(0, name.length - extension.length);
    for (let copy = 1; ; copy++) {
      const path = join(folder, copy === 1 ? name : `${stem}-${copy}${extension}`);
      try {
        // `wx` fails when the file exists, so nothing already on disk is overwritten.
        writeFileSync(path, attachment.data, { flag: 'wx' });
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
        throw error;
      }
      const shown = shownPath(path);
      this.saved.set(attachment.id, shown);
      return shown;
    }
  }
}

/** A file name from Discord may hold anything; only its last segment, without separators, is used. */
function safeName(name: string): string {
  const cleaned = basename(name.replace(/[\\/]/g, '_')).replace(new RegExp(CONTROL_CHARACTERS.source, 'g'), '_').replace(/[<>:"|?*]/g, '_');
  return cleaned === '' || cleaned === '.' || cleaned === '..' ? 'file' : cleaned;
}

/** Relative to the working directory when inside it (shorter to read), absolute otherwise. */
function shownPath(path: string): string {
  const fromHere = relative(process.cwd(), path);
  return fromHere.startsWith('..') || isAbsolute(fromHere) ? path : fromHere;
}
