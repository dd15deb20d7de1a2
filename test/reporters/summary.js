/**
 * Prints the plain closing line CI readers look for ("tests: N passed, N failed, N skipped"),
 * after jest's own summary. Skipped tests are counted so a skip can never hide.
 */
class SummaryReporter {
  onRunComplete(_contexts, results) {
    const skipped = results.numPendingTests + results.numTodoTests;
    process.stdout.write(`tests: ${results.numPassedTests} passed, ${results.numFailedTests} failed, ${skipped} skipped\n`);
  }
}
module.exports = SummaryReporter;
