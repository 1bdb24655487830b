/**
 * A D1 binding that checks production's D1 limits before each statement runs: function arguments, bound parameters,
 * statement and value sizes, and queries per invocation. Everything else passes through untouched, so drizzle
 * (`prepare` → `bind` → `all`/`run`/`raw`/`first`, and `batch`) and direct use behave exactly as on the raw binding.
 */
import { crossed, currentBudget } from "./invocation";
import { describeSql, PLATFORM_LIMITS, utf8Length } from "./limits";
import { widestFunctionCall } from "./sql-scan";

/** What the SQL text alone decides, computed once per distinct statement. */
interface StatementShape {
  /** Writes have their bound bytes checked against the row size. */
  writes: boolean;
}

const shapes = new Map<string, StatementShape>();
const MAX_CACHED_SHAPES = 2_000;

/** Checks the SQL text of one statement (size, function arguments) once, and remembers what it writes. */
function shapeOf(sql: string): StatementShape {
  const known = shapes.get(sql);
  if (known) return known;
  const bytes = utf8Length(sql);
  if (bytes > PLATFORM_LIMITS["d1.statement_bytes"].max) crossed("d1.statement_bytes", bytes, describeSql(sql));
  const widest = widestFunctionCall(sql);
  if (widest && widest.args > PLATFORM_LIMITS["d1.function_arguments"].max) {
    crossed("d1.function_arguments", widest.args, `${widest.name}(…) in "${describeSql(sql)}"`);
  }
  const shape = { writes: /^\s*(?:insert|update|replace)\b/i.test(sql) };
  if (shapes.size >= MAX_CACHED_SHAPES) shapes.clear();
  shapes.set(sql, shape);
  return shape;
}

function boundBytes(value: unknown): number {
  if (typeof value === "string") return utf8Length(value);
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value.byteLength;
  return 8;
}

/** Checks the values bound to a statement: how many, and how many bytes. */
function checkBound(sql: string, shape: StatementShape, values: unknown[]): void {
  if (values.length > PLATFORM_LIMITS["d1.bound_parameters"].max) {
    crossed("d1.bound_parameters", values.length, describeSql(sql));
  }
  let total = 0;
  for (const value of values) {
    const bytes = boundBytes(value);
    if (bytes > PLATFORM_LIMITS["d1.value_bytes"].max) crossed("d1.value_bytes", bytes, describeSql(sql));
    total += bytes;
  }
  if (shape.writes && total > PLATFORM_LIMITS["d1.write_bound_bytes"].max) {
    crossed("d1.write_bound_bytes", total, describeSql(sql));
  }
}

/** Counts statements as queries and the call as a subrequest of the current invocation (none outside one). */
function spend(statements: number, what: string): void {
  const budget = currentBudget();
  if (!budget) return;
  budget.queried(statements, what);
  budget.subrequest(what);
}

/** A prepared statement that checks its bound values and counts its execution; `real` is what D1 runs. */
class LimitedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    readonly sql: string,
    private readonly shape: StatementShape,
  ) {}

  bind(...values: unknown[]): LimitedStatement {
    checkBound(this.sql, this.shape, values);
    return new LimitedStatement(this.real.bind(...values), this.sql, this.shape);
  }

  first(column?: string) {
    spend(1, describeSql(this.sql));
    return column === undefined ? this.real.first() : this.real.first(column);
  }

  run() {
    spend(1, describeSql(this.sql));
    return this.real.run();
  }

  all() {
    spend(1, describeSql(this.sql));
    return this.real.all();
  }

  raw(options?: { columnNames?: boolean }) {
    spend(1, describeSql(this.sql));
    return this.real.raw(options as { columnNames: true });
  }
}

function prepare(target: Pick<D1Database, "prepare">, sql: string): D1PreparedStatement {
  const shape = shapeOf(sql);
  return new LimitedStatement(target.prepare(sql), sql, shape) as unknown as D1PreparedStatement;
}

/** The statements D1 itself understands: ours unwrapped, any other passed as is. */
function unwrapAll(statements: D1PreparedStatement[]): D1PreparedStatement[] {
  return statements.map((statement) => (statement instanceof LimitedStatement ? statement.real : statement));
}

function batch<T>(target: Pick<D1Database, "batch">, statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
  const first = statements[0];
  spend(
    statements.length,
    `batch of ${statements.length}, first "${first instanceof LimitedStatement ? describeSql(first.sql) : "?"}"`,
  );
  return target.batch<T>(unwrapAll(statements));
}

/** `exec` runs one statement per line (D1's own rule), each counted and checked. */
function exec(target: D1Database, sql: string): Promise<D1ExecResult> {
  const statements = sql.split("\n").filter((line) => line.trim() !== "");
  for (const statement of statements) shapeOf(statement);
  spend(statements.length, `exec "${describeSql(sql)}"`);
  return target.exec(sql);
}

/** Wraps a D1 binding, or a session of one (`withSession`), so that every statement is checked and counted. */
export function limitedD1<T extends D1Database | D1DatabaseSession>(database: T): T {
  return new Proxy(database, {
    get(target, property) {
      switch (property) {
        case "prepare":
          return (sql: string) => prepare(target, sql);
        case "batch":
          return (statements: D1PreparedStatement[]) => batch(target, statements);
        case "exec":
          return (sql: string) => exec(target as D1Database, sql);
        case "withSession":
          return (...args: Parameters<D1Database["withSession"]>) =>
            limitedD1((target as D1Database).withSession(...args));
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}
