/**
 * Tamper sweep over every real quote that has collateral and verifies ok at its expected.json time:
 * each byte of the quote (header, body, signature data, QE report, auth data, PCK chain PEM) flipped
 * in turn; verification must never pass and never throw. Bytes after the declared signature data
 * are not part of the quote and are checked to be ignored.
 */
import {test} from 'uvu'
import {registerRealTamperPart} from '../helpers/verify-fuzz/real-tamper.js'

registerRealTamperPart(test, 0)

test.run()
