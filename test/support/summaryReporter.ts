// Prints one plain closing line, "N passed, N failed, N skipped", that any CI log reader understands.
import type { File, Reporter, Task } from "vitest"

const count = (tasks: ReadonlyArray<Task>, into: { passed: number; failed: number; skipped: number }) => {
  for (const task of tasks) {
    if (task.type === "suite") count(task.tasks, into)
    else if (task.mode === "skip" || task.mode === "todo") into.skipped++
    else if (task.result?.state === "pass") into.passed++
    else if (task.result?.state === "fail") into.failed++
  }
  return into
}

export default class SummaryReporter implements Reporter {
  onFinished(files: ReadonlyArray<File> = [], errors: ReadonlyArray<unknown> = []) {
    const totals = count(files, { passed: 0, failed: 0, skipped: 0 })
    // A suite that failed to load (an error outside any test) counts as a failure.
    const failed =
      totals.failed + files.filter((f) => f.result?.state === "fail" && f.tasks.length === 0).length + errors.length
    process.stdout.write(`\n${totals.passed} passed, ${failed} failed, ${totals.skipped} skipped\n`)
  }
}
