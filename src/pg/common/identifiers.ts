// Quoting of names and literals for the few statements that cannot take them as parameters (DDL, cursors).
export const quoteIdent = (name: string): string => `"${name.replaceAll('"', '""')}"`
export const quoteLiteral = (text: string): string => `'${text.replaceAll("'", "''")}'`
