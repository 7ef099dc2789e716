#!/usr/bin/env node
// The host side of an emulated CMIO device (see `cmio-host --help`).
import { main } from '../dist/cli/cmio-host.js'

process.exitCode = await main(process.argv.slice(2))
