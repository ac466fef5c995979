/** The device layer's crypto names, kept for its callers: keys and the RFC 6979 signer come from src/x509, hashing from ./digest.ts. */
import {CURVES, type CurveName} from '../x509/ecdsa.js'
import type {HashName} from '../abi/spdm.js'

export {hash} from './digest.js'
export {deriveEcKey, ecSign, type EcKeyPair} from '../x509/keys.js'
export {ecPublicKey, verifyEcdsa as ecVerify, type CurveName} from '../x509/ecdsa.js'
export const curveHash = (c: CurveName): HashName => CURVES[c].hash
