#!/usr/bin/env node
// The guest program: cmio network | unix | help (see `cmio help`).
import { main } from '../dist/cli/cmio.js'

process.exitCode = await main(process.argv.slice(2))
