// Reads `go mod edit -json` of Kubo's go.mod on stdin and prints the `go mod edit` flags that
// copy its module replace and exclude directives into another module, one per line.
// Go ignores these in a dependency's go.mod, but Kubo only builds with them.
let input = ''
process.stdin.setEncoding('utf8')
process.stdin.on('data', (chunk) => {
  input += chunk
})
process.stdin.on('end', () => {
  const mod = JSON.parse(input)
  const flags = []
  for (const r of mod.Replace ?? []) {
    // A local-path replace only makes sense inside Kubo's own source tree.
    if (!r.New.Version) continue
    const from = r.Old.Version ? `${r.Old.Path}@${r.Old.Version}` : r.Old.Path
    flags.push(`-replace=${from}=${r.New.Path}@${r.New.Version}`)
  }
  for (const e of mod.Exclude ?? []) flags.push(`-exclude=${e.Path}@${e.Version}`)
  process.stdout.write(flags.map((f) => `${f}\n`).join(''))
})
