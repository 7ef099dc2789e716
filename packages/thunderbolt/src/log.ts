// Log levels and the logger callback (lib.rs LogLevel; the messages are the reference's, see README).

export const LogLevel = { Debug: 'Debug', Info: 'Info', Warn: 'Warn', Error: 'Error' } as const
export type LogLevel = (typeof LogLevel)[keyof typeof LogLevel]

export type Logger = (level: LogLevel, message: string) => void
