/** The error a requester raises when a responder misbehaves or refuses: exit 3 (authenticity) or 7 (refusal). */
import {ExitCode, TdxkitError} from '../errors.js'

export class ProtocolError extends TdxkitError {
  /** the SPDM ERROR code, when the responder sent one */
  readonly spdm_error?: number
  constructor(code: string, message: string, spdmError?: number) {
    const authenticity = code === 'SPDM_BAD_SIGNATURE' || code === 'SPDM_BAD_VERIFY_DATA' || code === 'SPDM_CHAIN_HASH' || code === 'SPDM_DECRYPT'
    super(code, message, {exit: authenticity ? ExitCode.AUTHENTICITY : ExitCode.REFUSED})
    this.spdm_error = spdmError
  }
}
