/**
 * A D1 binding that checks production's D1 limits before each statement runs: function arguments, bound parameters,
 * statement and value sizes, and queries per invocation. Everything else passes through untouched, so drizzle
 * (`prepare` → `bind` → `all`/`run`/`raw`/`first`, and `batch`) and direct use behave exactly as on the raw binding.
 */
import { crossed, currentBudget } from "./invocation";
import { describeSql, PLATFORM_LIMITS, type PlatformLimit, utf8Length } from "./limits";
import { widestFunctionCall } from "./sql-scan";

/** A limit a statement crosses, found before it runs and reported when it runs (where D1 would fail). */
interface Violation {
  limit: PlatformLimit;
  count: number;
  what: string;
}

/** What the SQL text alone decides, computed once per distinct statement. */
interface StatementShape {
  /** Writes have their bound bytes checked against the row size. */
  writes: boolean;
  violation: Violation | null;
}

const shapes = new Map<string, StatementShape>();
const MAX_CACHED_SHAPES = 2_000;

function textViolation(sql: string): Violation | null {
  const bytes = utf8Length(sql);
  if (bytes > PLATFORM_LIMITS["d1.statement_bytes"].max) {
    return { limit: "d1.statement_bytes", count: bytes, what: describeSql(sql) };
  }
  const widest = widestFunctionCall(sql);
  if (widest && widest.args > PLATFORM_LIMITS["d1.function_arguments"].max) {
    return { limit: "d1.function_arguments", count: widest.args, what: `${widest.name}(…) in "${describeSql(sql)}"` };
  }
  return null;
}

/** The SQL text's size and widest function call, checked once per distinct statement. */
function shapeOf(sql: string): StatementShape {
  const known = shapes.get(sql);
  if (known) return known;
  const shape = { writes: /^\s*(?:insert|update|replace)\b/i.test(sql), violation: textViolation(sql) };
  if (shapes.size >= MAX_CACHED_SHAPES) shapes.clear();
  shapes.set(sql, shape);
  return shape;
}

function boundBytes(value: unknown): number {
  if (typeof value === "string") return utf8Length(value);
  if (value instanceof ArrayBuffer || ArrayBuffer.isView(value)) return value.byteLength;
  return 8;
}

/** The values bound to a statement: how many, and how many bytes. */
function boundViolation(sql: string, shape: StatementShape, values: unknown[]): Violation | null {
  if (values.length > PLATFORM_LIMITS["d1.bound_parameters"].max) {
    return { limit: "d1.bound_parameters", count: values.length, what: describeSql(sql) };
  }
  let total = 0;
  for (const value of values) {
    const bytes = boundBytes(value);
    if (bytes > PLATFORM_LIMITS["d1.value_bytes"].max) {
      return { limit: "d1.value_bytes", count: bytes, what: describeSql(sql) };
    }
    total += bytes;
  }
  if (shape.writes && total > PLATFORM_LIMITS["d1.write_bound_bytes"].max) {
    return { limit: "d1.write_bound_bytes", count: total, what: describeSql(sql) };
  }
  return null;
}

/** Counts statements as queries and the call as a subrequest of the current invocation (none outside one). */
function spend(statements: number, what: () => string): void {
  const budget = currentBudget();
  if (!budget) return;
  budget.queried(statements, what);
  budget.subrequest(what);
}

/**
 * A prepared statement that checks its SQL and bound values and counts its execution; `real` is what D1 runs.
 * Like D1, it fails when it runs (a rejected promise), not when it is prepared or bound.
 */
class LimitedStatement {
  constructor(
    readonly real: D1PreparedStatement,
    readonly sql: string,
    private readonly shape: StatementShape,
    private readonly violation: Violation | null = shape.violation,
  ) {}

  bind(...values: unknown[]): LimitedStatement {
    const violation = this.shape.violation ?? boundViolation(this.sql, this.shape, values);
    return new LimitedStatement(this.real.bind(...values), this.sql, this.shape, violation);
  }

  /** Throws the limit this statement crosses, if any. */
  check(): void {
    if (this.violation) crossed(this.violation.limit, this.violation.count, this.violation.what);
  }

  async first(column?: string) {
    this.check();
    spend(1, () => describeSql(this.sql));
    return column === undefined ? this.real.first() : this.real.first(column);
  }

  async run() {
    this.check();
    spend(1, () => describeSql(this.sql));
    return this.real.run();
  }

  async all() {
    this.check();
    spend(1, () => describeSql(this.sql));
    return this.real.all();
  }

  async raw(options?: { columnNames?: boolean }) {
    this.check();
    spend(1, () => describeSql(this.sql));
    return this.real.raw(options as { columnNames: true });
  }
}

function prepare(target: Pick<D1Database, "prepare">, sql: string): D1PreparedStatement {
  return new LimitedStatement(target.prepare(sql), sql, shapeOf(sql)) as unknown as D1PreparedStatement;
}

async function batch<T>(target: Pick<D1Database, "batch">, statements: D1PreparedStatement[]): Promise<D1Result<T>[]> {
  const real: D1PreparedStatement[] = [];
  for (const statement of statements) {
    if (statement instanceof LimitedStatement) {
      statement.check();
      real.push(statement.real);
    } else real.push(statement);
  }
  const first = statements[0];
  spend(
    statements.length,
    () => `batch of ${statements.length}, first "${first instanceof LimitedStatement ? describeSql(first.sql) : "?"}"`,
  );
  return target.batch<T>(real);
}

/** `exec` runs one statement per line (D1's own rule), each counted and checked. */
async function exec(target: D1Database, sql: string): Promise<D1ExecResult> {
  const statements = sql.split("\n").filter((line) => line.trim() !== "");
  for (const statement of statements) {
    const violation = shapeOf(statement).violation;
    if (violation) crossed(violation.limit, violation.count, violation.what);
  }
  spend(statements.length, () => `exec "${describeSql(sql)}"`);
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
