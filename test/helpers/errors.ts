/** The error a promise rejects with (a test failure if it resolves). */
import type {TdxkitError} from '../../src/errors.js'

export async function failure(p: Promise<unknown>): Promise<TdxkitError> {
  try {
    await p
  } catch (error) {
    return error as TdxkitError
  }
  throw new Error('expected a failure')
}
