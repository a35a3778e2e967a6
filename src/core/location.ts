/** A place in a file of the repository, 1-based, as editors count. */
export interface SourcePosition {
  readonly line: number;
  readonly column: number;
  /** The file, when it is not the one of the object around it (a field an overlay patched). */
  readonly file?: string;
}

/** Where something came from: a file relative to the repository root, and a position in it. */
export interface SourceLocation extends SourcePosition {
  readonly file: string;
}

/** `file:line:column`, the form editors and CI annotations understand. */
export function formatLocation(location: SourceLocation): string {
  return `${location.file}:${location.line}:${location.column}`;
}
