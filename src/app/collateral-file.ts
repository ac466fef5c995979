/** Collateral bundle files: read with the bounded UTF-8 text reader (src/app/files.ts), then parsed. */
import type {QuoteCollateralV3} from '../abi/collateral.js'
import {readTextInput} from './files.js'
import {parseCollateralText} from '../verify/collateral-bundle.js'

/** A QuoteCollateralV3 bundle file: unreadable or not JSON → exit 2; wrong shape → exit 4. */
export function loadCollateralFile(path: string): QuoteCollateralV3 {
  return parseCollateralText(readTextInput(path, 'collateral'), path)
}
