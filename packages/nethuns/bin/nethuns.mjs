#!/usr/bin/env node
// nethuns rx|tx|fwd|capture — see `nethuns --help`.
import { main } from '../dist/cli.js'

process.exitCode = await main(process.argv.slice(2))
