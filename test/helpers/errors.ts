/** The error a promise rejects with (a test failure if it resolves); the code a call throws. */
import type {TdxkitError} from '../../src/errors.js'

export async function failure(p: Promise<unknown>): Promise<TdxkitError> {
  try {
    await p
  } catch (error) {
    return error as TdxkitError
  }
  throw new Error('expected a failure')
}

/** The code of the error `fn` throws, or 'no error'. */
export function errorCode(fn: () => unknown): string {
  try {
    fn()
  } catch (error) {
    return (error as TdxkitError).code
  }
  return 'no error'
}
