// Typed FITS failures. Every error names the file and, where it is known, the byte offset into the
// (decompressed) FITS stream and the HDU index, so "file is bad" is never the whole message.

export type FitsErrorKind =
  | 'io' // the file could not be read
  | 'decompress' // the .bz2 stream is corrupt or truncated
  | 'truncated' // the file ends inside a header or a data unit
  | 'malformed' // bytes present but not valid FITS (bad card, missing keyword, bad value)
  | 'unsupported' // valid FITS this library does not decode (e.g. variable-length arrays)
  | 'missing'; // a requested HDU or column does not exist

export interface FitsError {
  readonly kind: FitsErrorKind;
  /** The path (or label) of the file the bytes came from. */
  readonly file: string;
  /** Byte offset into the FITS stream (after decompression), or null when no offset applies. */
  readonly offset: number | null;
  /** 0-based HDU index, or null. */
  readonly hdu: number | null;
  readonly message: string;
}

export function fitsError(
  kind: FitsErrorKind,
  file: string,
  offset: number | null,
  hdu: number | null,
  message: string,
): FitsError {
  return { kind, file, offset, hdu, message };
}

/** `file: HDU 2: byte 12222720: message`, the located form used in logs and thrown errors. */
export function formatFitsError(e: FitsError): string {
  const parts = [e.file];
  if (e.hdu !== null) parts.push(`HDU ${e.hdu}`);
  if (e.offset !== null) parts.push(`byte ${e.offset}`);
  return `${parts.join(': ')}: ${e.message}`;
}
