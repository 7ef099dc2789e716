// An INI reader with inih's rules (the parser upstream vrtd uses, default build): `[section]`, `name = value` or
// `name: value`, whole-line comments starting with ';' or '#', inline comments after whitespace + ';', names and
// values trimmed, indented lines continue the previous name (the handler is called again with the same name), a
// UTF-8 BOM ignored. A line that is none of these is an error; parsing goes on, and the first error's line number is
// returned (0: none), as ini_parse does. One divergence: no 200-byte line limit.

/** Called per name/value; return false to report an error on that line (parsing continues). */
export type IniHandler = (section: string, name: string, value: string, line: number) => boolean

const isSpace = (c: string): boolean => c === ' ' || c === '\t' || c === '\r' || c === '\n' || c === '\v' || c === '\f'

/** Index of the first char of `chars` or of an inline ';' comment (preceded by whitespace), else s.length. */
function findCharsOrComment(s: string, from: number, chars: string): number {
  let wasSpace = false
  for (let i = from; i < s.length; i++) {
    const c = s[i]!
    if (chars.includes(c)) return i
    if (wasSpace && c === ';') return i
    wasSpace = isSpace(c)
  }
  return s.length
}

const rstrip = (s: string): string => s.replace(/[ \t\r\n\v\f]+$/, '')
const lskip = (s: string): string => s.replace(/^[ \t\r\n\v\f]+/, '')

/** Optionally told about every section header (inih only reports name/value pairs). */
export type IniSectionHandler = (section: string, line: number) => void

export function parseIni(text: string, handler: IniHandler, onSection?: IniSectionHandler): number {
  let section = ''
  let prevName = ''
  let error = 0
  const lines = text.split('\n')
  for (let i = 0; i < lines.length; i++) {
    const lineno = i + 1
    let raw = lines[i]!
    if (i === 0 && raw.startsWith('\uFEFF')) raw = raw.slice(1)
    const start = lskip(rstrip(raw))
    const indented = start.length > 0 && raw.length > 0 && isSpace(raw[0]!)
    if (start === '' || start[0] === ';' || start[0] === '#') continue
    if (prevName !== '' && indented) {
      // continuation of the previous name's value
      const end = findCharsOrComment(start, 0, '')
      const value = rstrip(start.slice(0, end))
      if (!handler(section, prevName, value, lineno) && !error) error = lineno
    } else if (start[0] === '[') {
      const end = findCharsOrComment(start, 1, ']')
      if (start[end] === ']') {
        section = start.slice(1, end)
        prevName = ''
        onSection?.(section, lineno)
      } else if (!error) {
        error = lineno
      }
    } else {
      const end = findCharsOrComment(start, 0, '=:')
      if (start[end] === '=' || start[end] === ':') {
        const name = rstrip(start.slice(0, end))
        let value = start.slice(end + 1)
        const c = findCharsOrComment(value, 0, '')
        value = rstrip(lskip(value.slice(0, c)))
        prevName = name
        if (!handler(section, name, value, lineno) && !error) error = lineno
      } else if (!error) {
        error = lineno
      }
    }
  }
  return error
}
