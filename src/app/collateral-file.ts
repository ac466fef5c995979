/**
 * Collateral bundle files, and the bounded JSON text reading they share with policy files: a huge or
 * endless file (e.g. /dev/zero) is a clear error, never an out-of-memory crash.
 */
import {closeSync, fstatSync, openSync, readSync} from 'node:fs'
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {InputError} from '../errors.js'
import {MAX_INPUT_BYTES} from './files.js'
import {parseCollateralText} from '../verify/collateral-bundle.js'

/** Bytes read per read(2) call. */
const READ_CHUNK = 1 << 16

/** Read a JSON text file (policy, collateral bundle) with the same size bound as binary inputs. */
export function readJsonText(path: string, what: string, limit = MAX_INPUT_BYTES): string {
  let fd: number | undefined
  try {
    fd = openSync(path, 'r')
    if (fstatSync(fd).size > limit) throw new InputError('INPUT_TOO_LARGE', `${what}: ${path} is larger than ${limit} bytes`)
    const chunks: Buffer[] = []
    let total = 0
    const chunk = Buffer.alloc(READ_CHUNK)
    for (let n; (n = readSync(fd, chunk)) > 0; ) {
      total += n
      if (total > limit) throw new InputError('INPUT_TOO_LARGE', `${what}: ${path} is larger than ${limit} bytes`)
      chunks.push(Buffer.from(chunk.subarray(0, n)))
    }
    return Buffer.concat(chunks).toString('utf8')
  } catch (e) {
    if (e instanceof InputError) throw e
    throw new InputError('UNREADABLE_INPUT', `${what}: cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`)
  } finally {
    if (fd !== undefined) closeSync(fd)
  }
}

/** A QuoteCollateralV3 bundle file: unreadable or not JSON → exit 2; wrong shape → exit 4. */
export function loadCollateralFile(path: string): QuoteCollateralV3 {
  return parseCollateralText(readJsonText(path, 'collateral'), path)
}
