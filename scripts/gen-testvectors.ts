// Regenerate testvectors/ from the seed: `npm run testvectors [-- SEED]`.
import {dirname, join} from 'node:path'
import {fileURLToPath} from 'node:url'
import {DEFAULT_VECTOR_SEED, writeVectors} from '../src/testvectors/generate.js'

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'testvectors')
const files = await writeVectors(out, process.argv[2] ?? DEFAULT_VECTOR_SEED)
for (const f of files) console.log(`${String(f.bytes.length).padStart(6)}  testvectors/${f.name}`)
