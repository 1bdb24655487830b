// Vitest reporter of the workerd benchmarks: each benchmark test hands its result over in `task.meta.bench`
// (see support.ts); this prints it as a table and writes test/bench/results/<name>.json.
import { writeResult } from "./report.mjs";

export default class BenchResultsReporter {
  onTestCaseResult(testCase) {
    const result = testCase.meta().bench;
    if (result) writeResult(result);
  }
}
