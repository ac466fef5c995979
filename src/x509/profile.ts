/**
 * What a caller accepts beyond RFC 5280's syntax: the certificate reader is general (any key Node
 * imports, any signature algorithm it can name) and a profile narrows it. The quote verifier passes
 * Intel DCAP's profile (src/x509/dcap.ts); device chains use OPEN_PROFILE and apply their own rules.
 */

export interface X509Profile {
  /** Distinguishes the profile's entries in the parse memo. */
  name: string
  /** Allowed signature algorithms, each without parameters; `text` names them in the error. Unset: any. */
  signature?: {oids: ReadonlySet<string>; text: string}
  /** The one allowed key: algorithm and named-curve OIDs; `text` names it in the error. Unset: any key Node can import. */
  key?: {algorithm: string; curve: string; text: string}
  /**
   * Extensions a certificate may mark critical (RFC 5280 §4.2: a certificate with an unrecognised
   * critical extension must be rejected). Unset: criticality is left to the caller's chain rules.
   */
  criticalExtensions?: ReadonlySet<string>
}

/** No narrowing: the reader's syntax checks only. */
export const OPEN_PROFILE: X509Profile = Object.freeze({name: 'open'})
