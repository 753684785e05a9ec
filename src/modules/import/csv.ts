/**
 * RFC 4180 CSV as a hand-written state machine: one pass, each character looked at once, no regular expressions,
 * so the time is linear in the input whatever it holds (a crafted file cannot hold the event loop). It is fed in
 * chunks (`push`) so the CLI streams a file of any size; records come out as they complete.
 *
 * Accepted beyond the RFC: LF or CRLF line ends, a UTF-8 byte-order mark, blank lines (skipped). A quote inside an
 * unquoted field is kept as text; text after a closing quote is refused (an unterminated or broken quote would
 * otherwise swallow the rest of the file silently).
 */
export class CsvError extends Error {
  override name = 'CsvError';
  constructor(
    message: string,
    readonly line: number,
  ) {
    super(message);
  }
}

const enum S {
  FieldStart,
  Unquoted,
  Quoted,
  QuoteInQuoted,
}

export type CsvLimits = { maxFieldChars: number; maxFields: number };
const DEFAULT_LIMITS: CsvLimits = { maxFieldChars: 70_000, maxFields: 200 };

export class CsvParser {
  private state = S.FieldStart;
  private field = '';
  private record: string[] = [];
  private line = 1;
  private recordLine = 1;
  private started = false;
  private readonly limits: CsvLimits;

  constructor(
    private readonly onRecord: (fields: string[], line: number) => void,
    limits: Partial<CsvLimits> = {},
  ) {
    this.limits = { ...DEFAULT_LIMITS, ...limits };
  }

  push(chunk: string): void {
    let i = 0;
    if (!this.started) {
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) i = 1;
    }
    let field = this.field;
    for (; i < chunk.length; i++) {
      const c = chunk[i];
      switch (this.state) {
        case S.FieldStart:
          if (c === '"') {
            this.state = S.Quoted;
            break;
          }
          this.state = S.Unquoted;
        // falls through: the character starts an unquoted field
        case S.Unquoted:
          if (c === ',') {
            this.endField(field);
            field = '';
            this.state = S.FieldStart;
          } else if (c === '\n') {
            this.endField(field);
            field = '';
            this.endRecord();
          } else if (c === '\r') {
            // CR before LF ends nothing by itself; a lone CR is dropped
          } else field = this.append(field, c);
          break;
        case S.Quoted:
          if (c === '"') this.state = S.QuoteInQuoted;
          else {
            if (c === '\n') this.line++;
            field = this.append(field, c);
          }
          break;
        case S.QuoteInQuoted:
          if (c === '"') {
            field = this.append(field, '"');
            this.state = S.Quoted;
          } else if (c === ',') {
            this.endField(field);
            field = '';
            this.state = S.FieldStart;
          } else if (c === '\n') {
            this.endField(field);
            field = '';
            this.endRecord();
          } else if (c === '\r') {
            // wait for the LF
          } else throw new CsvError('text after a closing quote (a quote inside a quoted field is written "")', this.line);
          break;
      }
    }
    this.field = field;
  }

  /** The input ended: the last record (without a final line end) is emitted; an open quote is an error. */
  end(): void {
    if (this.state === S.Quoted) throw new CsvError('a quoted field is not closed before the end of the file', this.recordLine);
    if (this.state !== S.FieldStart || this.record.length > 0 || this.field !== '') {
      this.endField(this.field);
      this.field = '';
      this.endRecord();
    }
  }

  private append(field: string, c: string): string {
    if (field.length >= this.limits.maxFieldChars) throw new CsvError(`a field is longer than ${this.limits.maxFieldChars} characters`, this.line);
    return field + c;
  }

  private endField(value: string) {
    if (this.record.length >= this.limits.maxFields) throw new CsvError(`a row has more than ${this.limits.maxFields} columns`, this.recordLine);
    this.record.push(value);
  }

  private endRecord() {
    const record = this.record;
    this.record = [];
    this.state = S.FieldStart;
    const line = this.recordLine;
    this.line++;
    this.recordLine = this.line;
    // A blank line is one empty field: skipped.
    if (record.length === 1 && record[0] === '') return;
    this.onRecord(record, line);
  }
}

/** Parses a whole CSV text into records with the line each starts on. */
export function parseCsv(text: string, limits?: Partial<CsvLimits>): { fields: string[]; line: number }[] {
  const out: { fields: string[]; line: number }[] = [];
  const parser = new CsvParser((fields, line) => out.push({ fields, line }), limits);
  parser.push(text);
  parser.end();
  return out;
}
