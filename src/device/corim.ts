/**
 * CoRIM / CoMID reference values (draft-ietf-rats-corim) with cbor-x, signed or not:
 * - decode: COSE_Sign1 (#6.18) around a #6.501 CoRIM, a bare #6.501 CoRIM, a #6.506 or untagged
 *   CoMID, or TCG concise evidence (#6.571); CoMIDs inside a CoRIM are bstr-wrapped CBOR.
 * - reference triples → per-SPDM-index reference measurements (mkey uint = index, or the
 *   environment class `index`, the DMTF spdm_device_verifier_tool convention);
 * - identity triples → trust anchors (cert thumbprint #6.559, PKIX base64 cert #6.555);
 * - COSE_Sign1 sign/verify (ES256/ES384/ES512, raw r‖s, Sig_structure "Signature1") and the
 *   corim-meta signer validity in protected header 8.
 * Keys and tags: shared/reference/device-evidence.md §3.1.
 */
import {createPublicKey, type KeyObject} from 'node:crypto'
import {ParseError} from '../errors.js'
import type {HashName} from '../abi/spdm.js'
import {asBytes, asMap, cbor, isTag, Tag} from './cbor.js'
import {verifyEcdsa} from '../x509/ecdsa.js'
import {ecSign, type EcKeyPair} from '../x509/keys.js'
import {parseCert} from '../x509/cert.js'
import {pemToDers} from '../x509/pem.js'
import {OPEN_PROFILE} from '../x509/profile.js'
import {thumbprint, type TrustAnchor} from './chain.js'

export const CborTag = {
  EPOCH: 1,
  COSE_SIGN1: 18,
  URI: 32,
  UUID: 37,
  OID: 111,
  CORIM_LEGACY: 500,
  CORIM: 501,
  CORIM_SIGNED_LEGACY: 502,
  COSWID: 505,
  COMID: 506,
  UEID: 550,
  SVN: 552,
  MIN_SVN: 553,
  PKIX_BASE64_KEY: 554,
  PKIX_BASE64_CERT: 555,
  THUMBPRINT: 557,
  CERT_THUMBPRINT: 559,
  TAGGED_BYTES: 560,
  CONCISE_EVIDENCE: 571,
} as const

/** corim-map / comid / triples / environment / measurement keys. */
export const CorimKey = {ID: 0, TAGS: 1, DEPENDENT_RIMS: 2, PROFILE: 3, VALIDITY: 4, ENTITIES: 5} as const
export const ComidKey = {LANGUAGE: 0, TAG_IDENTITY: 1, ENTITIES: 2, LINKED_TAGS: 3, TRIPLES: 4} as const
export const TriplesKey = {REFERENCE: 0, ENDORSED: 1, IDENTITY: 2, ATTEST_KEY: 3, COND_ENDORSE_SERIES: 8, COND_ENDORSE: 10} as const
export const EnvKey = {CLASS: 0, INSTANCE: 1, GROUP: 2} as const
export const ClassKey = {CLASS_ID: 0, VENDOR: 1, MODEL: 2, LAYER: 3, INDEX: 4} as const
export const MeasKey = {MKEY: 0, MVAL: 1, AUTHORIZED_BY: 2} as const
export const MvalKey = {VERSION: 0, SVN: 1, DIGESTS: 2, FLAGS: 3, RAW_VALUE: 4} as const
export const CoseHeader = {ALG: 1, CONTENT_TYPE: 3, KID: 4, CORIM_META: 8} as const
export const CoseAlg = {ES256: -7, ES384: -35, ES512: -36} as const
export const CORIM_CONTENT_TYPE = 'application/rim+cbor'

/** IANA named-information hash algorithm ids. */
export const NamedInfoAlg: Record<number, HashName> = {1: 'sha256', 7: 'sha384', 8: 'sha512'}
export const namedInfoId = (h: HashName): number => Number(Object.entries(NamedInfoAlg).find(([, v]) => v === h)![0])

const bad = (what: string): never => {
  throw new ParseError('CORIM_MALFORMED', `reference values: ${what}`)
}

/** Decode CBOR nested in a byte string (COSE headers and payload, CoMIDs): malformed → CORIM_MALFORMED. */
function decodeNested(b: Uint8Array, what: string): unknown {
  try {
    return cbor.decode(b)
  } catch {
    return bad(`${what} is not CBOR`)
  }
}

/** DER-encoded OID content → dotted string. */
export function oidToString(b: Uint8Array): string {
  const parts: number[] = []
  let v = 0
  for (let i = 0; i < b.length; i++) {
    v = v * 128 + (b[i] & 0x7f)
    if (!(b[i] & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80)
      else parts.push(v)
      v = 0
    }
  }
  return parts.join('.')
}

export interface ClassId {
  type: 'uuid' | 'oid' | 'bytes' | 'other'
  value: string
}

export interface EnvSummary {
  class_id?: ClassId
  vendor?: string
  model?: string
  layer?: number
  index?: number
  instance?: string
}

export interface RefMeasurement {
  /** SPDM measurement index (mkey uint, else environment class index) */
  index?: number
  mkey?: string
  version?: string
  svn?: {kind: 'exact' | 'min'; value: number}
  digests: Array<{alg: HashName | string; value: Buffer}>
  raw?: Buffer
  authorized_by?: string[]
}

export interface RefTriple {
  environment: EnvSummary
  measurements: RefMeasurement[]
}

export interface ComidSummary {
  tag_id: string
  language?: string
  entities: Array<{name: string; reg_id?: string; roles: number[]}>
  reference: RefTriple[]
  identity: Array<{environment: EnvSummary; anchors: TrustAnchor[]}>
  endorsed: number
  cond_endorse_series: Array<{condition: EnvSummary; records: number}>
}

export interface SignatureInfo {
  alg: number
  alg_name: string
  kid?: string
  content_type?: string
  signer?: {name?: string; uri?: string}
  validity?: {not_before?: string; not_after?: string}
  status: 'valid' | 'invalid' | 'unchecked'
  /** signer validity window does not contain `at` */
  expired?: boolean
}

export interface CorimDocument {
  kind: 'signed-corim' | 'corim' | 'comid' | 'concise-evidence'
  id?: string
  profile?: string
  signature?: SignatureInfo
  comids: ComidSummary[]
  /** for concise evidence: its evidence triples */
  evidence?: RefTriple[]
}

const text = (v: unknown): string | undefined => (typeof v === 'string' ? v : isTag(v, CborTag.URI) && typeof v.value === 'string' ? v.value : undefined)
const idString = (v: unknown): string => {
  if (typeof v === 'string') return v
  const b = asBytes(v) ?? (isTag(v) ? asBytes(v.value) : undefined)
  if (b) return b.toString('hex')
  return String(v)
}

function classId(v: unknown): ClassId | undefined {
  if (v === undefined) return undefined
  if (isTag(v, CborTag.UUID)) return {type: 'uuid', value: (asBytes(v.value) ?? bad('class-id UUID is not bytes')).toString('hex')}
  if (isTag(v, CborTag.OID)) return {type: 'oid', value: oidToString(asBytes(v.value) ?? bad('class-id OID is not bytes'))}
  if (isTag(v, CborTag.TAGGED_BYTES)) {
    const b = asBytes(v.value) ?? bad('class-id tagged bytes is not bytes')
    return {type: 'bytes', value: /^[\x20-\x7e]+$/.test(b.toString('latin1')) ? b.toString('latin1') : b.toString('hex')}
  }
  return {type: 'other', value: idString(v)}
}

function environment(v: unknown): EnvSummary {
  const m = asMap(v) ?? bad('environment is not a map')
  const c = asMap(m.get(EnvKey.CLASS))
  const env: EnvSummary = {}
  if (c) {
    env.class_id = classId(c.get(ClassKey.CLASS_ID))
    env.vendor = text(c.get(ClassKey.VENDOR))
    env.model = text(c.get(ClassKey.MODEL))
    const layer = c.get(ClassKey.LAYER)
    const index = c.get(ClassKey.INDEX)
    if (typeof layer === 'number') env.layer = layer
    if (typeof index === 'number') env.index = index
  }
  const inst = m.get(EnvKey.INSTANCE)
  if (inst !== undefined) env.instance = idString(isTag(inst) ? inst.value : inst)
  return env
}

const toNum = (v: unknown): number | undefined => (typeof v === 'number' ? v : typeof v === 'bigint' ? Number(v) : undefined)

function measurement(v: unknown, env: EnvSummary): RefMeasurement {
  const m = asMap(v) ?? bad('measurement is not a map')
  const out: RefMeasurement = {digests: []}
  const mkey = m.get(MeasKey.MKEY)
  if (typeof mkey === 'number') out.index = mkey
  else if (mkey !== undefined) {
    out.mkey = idString(isTag(mkey) ? mkey.value : mkey)
    if (env.index !== undefined) out.index = env.index
  } else if (env.index !== undefined) out.index = env.index
  const mval = asMap(m.get(MeasKey.MVAL)) ?? new Map()
  const ver = asMap(mval.get(MvalKey.VERSION))
  if (ver && typeof ver.get(0) === 'string') out.version = ver.get(0) as string
  const svn = mval.get(MvalKey.SVN)
  if (svn !== undefined) {
    if (isTag(svn, CborTag.MIN_SVN)) out.svn = {kind: 'min', value: toNum(svn.value) ?? bad('min-svn is not an integer')}
    else if (isTag(svn, CborTag.SVN)) out.svn = {kind: 'exact', value: toNum(svn.value) ?? bad('svn is not an integer')}
    else out.svn = {kind: 'exact', value: toNum(svn) ?? bad('svn is not an integer')}
  }
  const digests = mval.get(MvalKey.DIGESTS)
  if (digests !== undefined) {
    if (!Array.isArray(digests)) bad('digests is not an array')
    for (const d of digests as unknown[]) {
      if (!Array.isArray(d) || d.length !== 2) bad('digest is not [alg, value]')
      const [alg, val] = d as [unknown, unknown]
      const name = typeof alg === 'number' ? (NamedInfoAlg[alg] ?? `alg-${alg}`) : typeof alg === 'string' ? alg.replace('-', '') : bad('digest alg is neither int nor text')
      out.digests.push({alg: name, value: asBytes(val) ?? bad('digest value is not bytes')})
    }
  }
  const raw = mval.get(MvalKey.RAW_VALUE)
  if (raw !== undefined) out.raw = asBytes(isTag(raw) ? raw.value : raw) ?? bad('raw-value is not bytes')
  const auth = m.get(MeasKey.AUTHORIZED_BY)
  if (auth !== undefined) out.authorized_by = (Array.isArray(auth) ? auth : [auth]).map((a) => (isTag(a) ? `#6.${a.tag}` : typeof a))
  return out
}

function referenceTriples(v: unknown): RefTriple[] {
  if (!Array.isArray(v)) return bad('reference triples is not an array')
  return v.map((t) => {
    if (!Array.isArray(t) || t.length < 2) bad('reference triple is not [environment, measurements]')
    const env = environment(t[0])
    const ms = Array.isArray(t[1]) ? t[1] : [t[1]]
    return {environment: env, measurements: ms.map((x: unknown) => measurement(x, env))}
  })
}

function anchorsFromKeys(keys: unknown, source: string): TrustAnchor[] {
  const out: TrustAnchor[] = []
  for (const k of Array.isArray(keys) ? keys : [keys]) {
    if (isTag(k, CborTag.CERT_THUMBPRINT) || isTag(k, CborTag.THUMBPRINT)) {
      const d = k.value
      if (Array.isArray(d) && d.length === 2 && typeof d[0] === 'number' && NamedInfoAlg[d[0]] && asBytes(d[1])) out.push({thumbprint: {alg: NamedInfoAlg[d[0]], digest: asBytes(d[1])!}, source: `${source} thumbprint`})
    } else if (isTag(k, CborTag.PKIX_BASE64_CERT) && typeof k.value === 'string') {
      const b64 = k.value.replace(/-----[A-Z ]+-----/g, '').replace(/\s+/g, '')
      out.push({cert: Buffer.from(b64, 'base64'), source: `${source} certificate`})
    }
  }
  return out
}

function comid(v: unknown): ComidSummary {
  const m = asMap(v) ?? bad('CoMID is not a map')
  const ti = asMap(m.get(ComidKey.TAG_IDENTITY)) ?? bad('CoMID has no tag-identity')
  const out: ComidSummary = {tag_id: idString(ti.get(0)), entities: [], reference: [], identity: [], endorsed: 0, cond_endorse_series: []}
  if (typeof m.get(ComidKey.LANGUAGE) === 'string') out.language = m.get(ComidKey.LANGUAGE) as string
  const ents = m.get(ComidKey.ENTITIES)
  for (const e of Array.isArray(ents) ? ents : []) {
    const em = asMap(e)
    if (!em) continue
    out.entities.push({name: text(em.get(0)) ?? '', reg_id: text(em.get(1)), roles: Array.isArray(em.get(2)) ? (em.get(2) as number[]) : []})
  }
  const tr = asMap(m.get(ComidKey.TRIPLES)) ?? bad('CoMID has no triples')
  if (tr.has(TriplesKey.REFERENCE)) out.reference = referenceTriples(tr.get(TriplesKey.REFERENCE))
  const ident = tr.get(TriplesKey.IDENTITY)
  if (Array.isArray(ident)) {
    for (const t of ident) {
      if (!Array.isArray(t) || t.length < 2) bad('identity triple is not [environment, keys]')
      out.identity.push({environment: environment(t[0]), anchors: anchorsFromKeys(t[1], `CoMID ${out.tag_id} identity`)})
    }
  }
  const endorsed = tr.get(TriplesKey.ENDORSED)
  if (Array.isArray(endorsed)) out.endorsed = endorsed.length
  const series = tr.get(TriplesKey.COND_ENDORSE_SERIES)
  if (Array.isArray(series)) {
    for (const s of series) {
      if (!Array.isArray(s) || s.length < 2) bad('conditional-endorsement-series triple malformed')
      const cond = Array.isArray(s[0]) ? s[0][0] : s[0]
      out.cond_endorse_series.push({condition: environment(cond), records: Array.isArray(s[1]) ? s[1].length : 0})
    }
  }
  return out
}

function unsignedCorim(v: unknown): {id: string; profile?: string; comids: ComidSummary[]} {
  const m = asMap(v) ?? bad('CoRIM is not a map')
  const tags = m.get(CorimKey.TAGS)
  if (!Array.isArray(tags)) bad('CoRIM has no tags array')
  const comids: ComidSummary[] = []
  for (const t of tags as unknown[]) {
    if (!isTag(t, CborTag.COMID)) continue // CoSWID and others are not reference values for us
    const inner = asBytes(t.value) ?? bad('CoMID tag does not wrap a byte string')
    comids.push(comid(decodeNested(inner, 'CoMID byte string')))
  }
  const profile = m.get(CorimKey.PROFILE)
  return {id: idString(m.get(CorimKey.ID)), profile: profile === undefined ? undefined : isTag(profile, CborTag.OID) ? oidToString(asBytes(profile.value) ?? bad('profile OID is not bytes')) : text(profile), comids}
}

const ALG_NAMES: Record<number, string> = {[-7]: 'ES256', [-35]: 'ES384', [-36]: 'ES512'}
const ALG_HASH: Record<number, HashName> = {[-7]: 'sha256', [-35]: 'sha384', [-36]: 'sha512'}

export interface DecodeOptions {
  /** public key of the CoRIM signer (COSE_Sign1); without it the signature is reported unchecked */
  key?: KeyObject
  /** time for the signer validity check */
  at?: Date
}

/** Sig_structure for COSE_Sign1 with empty external AAD. */
export function sigStructure(protectedBytes: Buffer, payload: Buffer): Buffer {
  return Buffer.from(cbor.encode(['Signature1', protectedBytes, Buffer.alloc(0), payload]))
}

/** Decode any of the supported reference-value documents. */
export function decodeCorim(buf: Uint8Array, opts: DecodeOptions = {}): CorimDocument {
  let v: unknown
  try {
    v = cbor.decode(buf)
  } catch (error) {
    throw new ParseError('CORIM_NOT_CBOR', `reference values are not valid CBOR: ${(error as Error).message}`)
  }
  if (isTag(v, CborTag.COSE_SIGN1) || (Array.isArray(v) && v.length === 4 && asBytes(v[0]) && asBytes(v[2]))) {
    const arr = (isTag(v) ? v.value : v) as unknown[]
    if (!Array.isArray(arr) || arr.length !== 4) bad('COSE_Sign1 is not a 4-element array')
    const prot = asBytes(arr[0]) ?? bad('COSE protected header is not bytes')
    const payload = asBytes(arr[2]) ?? bad('COSE payload is not bytes (detached payloads unsupported)')
    const sig = asBytes(arr[3]) ?? bad('COSE signature is not bytes')
    const ph = asMap(prot.length ? decodeNested(prot, 'COSE protected header') : new Map()) ?? bad('COSE protected header is not a map')
    const alg = ph.get(CoseHeader.ALG)
    if (typeof alg !== 'number') bad('COSE protected header has no alg')
    const info: SignatureInfo = {alg: alg as number, alg_name: ALG_NAMES[alg as number] ?? String(alg), status: 'unchecked'}
    const kid = asBytes(ph.get(CoseHeader.KID))
    if (kid) info.kid = /^[\x20-\x7e]+$/.test(kid.toString('latin1')) ? kid.toString('latin1') : kid.toString('hex')
    if (typeof ph.get(CoseHeader.CONTENT_TYPE) === 'string') info.content_type = ph.get(CoseHeader.CONTENT_TYPE) as string
    const metaBytes = asBytes(ph.get(CoseHeader.CORIM_META))
    if (metaBytes) {
      const meta = asMap(decodeNested(metaBytes, 'corim-meta')) ?? bad('corim-meta is not a map')
      const signer = asMap(meta.get(0))
      if (signer) info.signer = {name: text(signer.get(0)), uri: text(signer.get(1))}
      const validity = asMap(meta.get(1))
      if (validity) {
        const t = (x: unknown) => {
          const d = x instanceof Date ? x : isTag(x, CborTag.EPOCH) && typeof x.value === 'number' ? new Date(x.value * 1000) : undefined
          if (d && Number.isNaN(d.getTime())) bad('corim-meta validity time is out of range')
          return d
        }
        const nb = t(validity.get(0))
        const na = t(validity.get(1))
        info.validity = {not_before: nb?.toISOString(), not_after: na?.toISOString()}
        if (opts.at) info.expired = (nb !== undefined && opts.at < nb) || (na !== undefined && opts.at > na)
      }
    }
    if (opts.key) {
      const h = ALG_HASH[alg as number]
      info.status = h && verifyEcdsa(opts.key, h, sigStructure(prot, payload), sig) ? 'valid' : 'invalid'
    }
    let inner = decodeNested(payload, 'COSE payload')
    // older drafts wrapped the CoRIM as #6.500(#6.502(...)); strip those
    while (isTag(inner, CborTag.CORIM_LEGACY) || isTag(inner, CborTag.CORIM_SIGNED_LEGACY)) inner = inner.value
    if (!isTag(inner, CborTag.CORIM)) return bad('COSE payload is not a #6.501 CoRIM')
    const c = unsignedCorim(inner.value)
    return {kind: 'signed-corim', ...c, signature: info}
  }
  if (isTag(v, CborTag.CORIM)) return {kind: 'corim', ...unsignedCorim(v.value)}
  if (isTag(v, CborTag.COMID)) {
    const inner = asBytes(v.value)
    return {kind: 'comid', comids: [comid(inner ? decodeNested(inner, 'CoMID byte string') : v.value)]}
  }
  if (isTag(v, CborTag.CONCISE_EVIDENCE)) {
    const m = asMap(v.value) ?? bad('concise evidence is not a map')
    const ev = asMap(m.get(0)) ?? bad('concise evidence has no ev-triples')
    return {kind: 'concise-evidence', comids: [], evidence: ev.has(0) ? referenceTriples(ev.get(0)) : []}
  }
  if (asMap(v)?.has(ComidKey.TRIPLES)) return {kind: 'comid', comids: [comid(v)]}
  return bad('not a CoRIM, signed CoRIM, CoMID or concise evidence')
}

// ---------------------------------------------------------------------------------------------
// Encoding

export interface RefMeasurementSpec {
  index: number
  digest?: {alg: HashName; value: Buffer}
  min_svn?: number
  raw?: Buffer
}

export interface ComidSpec {
  tag_id: string
  entity: {name: string; reg_id?: string}
  environment: {class_id_bytes: Buffer; vendor: string; model: string}
  measurements: RefMeasurementSpec[]
  /** root certificates pinned through an identity triple */
  anchors?: Buffer[]
}

function encodeComid(c: ComidSpec): Buffer {
  const env = new Map([[EnvKey.CLASS, new Map<number, unknown>([[ClassKey.CLASS_ID, new Tag(c.environment.class_id_bytes, CborTag.TAGGED_BYTES)], [ClassKey.VENDOR, c.environment.vendor], [ClassKey.MODEL, c.environment.model]])]])
  const meas = c.measurements.map((m) => {
    const mval = new Map<number, unknown>()
    if (m.min_svn !== undefined) mval.set(MvalKey.SVN, new Tag(m.min_svn, CborTag.MIN_SVN))
    if (m.digest) mval.set(MvalKey.DIGESTS, [[namedInfoId(m.digest.alg), m.digest.value]])
    if (m.raw) mval.set(MvalKey.RAW_VALUE, new Tag(m.raw, CborTag.TAGGED_BYTES))
    return new Map<number, unknown>([[MeasKey.MKEY, m.index], [MeasKey.MVAL, mval]])
  })
  const triples = new Map<number, unknown>([[TriplesKey.REFERENCE, [[env, meas]]]])
  if (c.anchors?.length) {
    const keys: unknown[] = []
    for (const a of c.anchors) {
      keys.push(new Tag([namedInfoId('sha384'), thumbprint('sha384', a)], CborTag.CERT_THUMBPRINT))
      keys.push(new Tag(a.toString('base64'), CborTag.PKIX_BASE64_CERT))
    }
    triples.set(TriplesKey.IDENTITY, [[env, keys]])
  }
  const entity = new Map<number, unknown>([[0, c.entity.name]])
  if (c.entity.reg_id) entity.set(1, new Tag(c.entity.reg_id, CborTag.URI))
  entity.set(2, [0, 1]) // tag-creator, creator
  const doc = new Map<number, unknown>([
    [ComidKey.LANGUAGE, 'en'],
    [ComidKey.TAG_IDENTITY, new Map([[0, c.tag_id]])],
    [ComidKey.ENTITIES, [entity]],
    [ComidKey.TRIPLES, triples],
  ])
  return Buffer.from(cbor.encode(doc))
}

/** An unsigned CoRIM (#6.501) holding the given CoMIDs. */
export function encodeCorim(id: string, comids: ComidSpec[], profile?: string): Buffer {
  const m = new Map<number, unknown>([
    [CorimKey.ID, id],
    [CorimKey.TAGS, comids.map((c) => new Tag(encodeComid(c), CborTag.COMID))],
  ])
  if (profile) m.set(CorimKey.PROFILE, new Tag(profile, CborTag.URI))
  return Buffer.from(cbor.encode(new Tag(m, CborTag.CORIM)))
}

export interface SignOptions {
  key: EcKeyPair
  kid?: string
  signer: {name: string; uri?: string}
  validity?: {not_before: Date; not_after: Date}
}

/** Wrap a #6.501 CoRIM in COSE_Sign1 (ES256 for P-256 keys, ES384 for P-384), deterministic. */
export function signCorim(corim: Buffer, opts: SignOptions): Buffer {
  const alg = opts.key.curve === 'P-256' ? CoseAlg.ES256 : CoseAlg.ES384
  const meta = new Map<number, unknown>([[0, new Map<number, unknown>([[0, opts.signer.name], ...(opts.signer.uri ? [[1, new Tag(opts.signer.uri, CborTag.URI)] as [number, unknown]] : [])])]])
  if (opts.validity) {
    meta.set(1, new Map([[0, new Tag(Math.floor(opts.validity.not_before.getTime() / 1000), CborTag.EPOCH)], [1, new Tag(Math.floor(opts.validity.not_after.getTime() / 1000), CborTag.EPOCH)]]))
  }
  const ph = new Map<number, unknown>([[CoseHeader.ALG, alg], [CoseHeader.CONTENT_TYPE, CORIM_CONTENT_TYPE]])
  if (opts.kid) ph.set(CoseHeader.KID, Buffer.from(opts.kid))
  ph.set(CoseHeader.CORIM_META, Buffer.from(cbor.encode(meta)))
  const prot = Buffer.from(cbor.encode(ph))
  const sig = ecSign(opts.key, sigStructure(prot, corim))
  return Buffer.from(cbor.encode(new Tag([prot, new Map(), corim, sig], CborTag.COSE_SIGN1)))
}

/** The public key of a certificate (DER) read with the certificate stack's open profile. */
function certKey(der: Buffer | undefined): KeyObject {
  if (!der) throw new Error('no complete PEM certificate block')
  return parseCert(der, OPEN_PROFILE).publicKey
}

/** A public key from a JWK (EC), PEM SPKI/certificate, or DER SPKI/certificate. */
export function loadPublicKey(buf: Buffer, what: string): KeyObject {
  const textForm = buf.toString('utf8').trim()
  try {
    if (textForm.startsWith('{')) return createPublicKey({key: JSON.parse(textForm), format: 'jwk'})
    if (textForm.includes('-----BEGIN CERTIFICATE-----')) return certKey(pemToDers(textForm)[0])
    if (textForm.includes('-----BEGIN')) return createPublicKey(textForm)
    try {
      return createPublicKey({key: buf, format: 'der', type: 'spki'})
    } catch {
      return certKey(buf)
    }
  } catch (error) {
    throw new ParseError('BAD_PUBLIC_KEY', `${what}: not a JWK, PEM or DER public key or certificate (${(error as Error).message})`)
  }
}
