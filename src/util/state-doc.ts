/**
 * The persisted document's generic shape: a schema version and sections owned by the layers that
 * write them (module, host, alloc, devices...). src/state stores it; layers type their sections here.
 */

export const STATE_SCHEMA_VERSION = 1

/** The persisted document. Sections are owned by the layer that writes them (module, host, devices...). */
export interface StateDoc {
  schema_version: number
  [section: string]: unknown
}
