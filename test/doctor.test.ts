// `ipfs-kit doctor` end to end: on a fresh machine it explains every missing piece; against a
// real running Kubo with a valid index it says usable; a foreign index file makes it fail.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import type { DoctorReport } from '../src/doctor/doctor.js'
import { indexFilePath } from '../src/store/layout.js'
import { writePinDelta } from '../src/store/pin-delta-writer.js'
import { runCli } from './helpers/cli.js'
import { writePinsFile } from './helpers/index-files.js'
import { kuboBin, makeTempDir, startKubo, type TestKubo } from './helpers/kubo.js'

async function doctor(
  env: Record<string, string | undefined>,
): Promise<{ code: number | null; report: DoctorReport }> {
  const r = await runCli(['doctor', '--json'], { env })
  assert.equal(r.stderr, '')
  return { code: r.code, report: JSON.parse(r.stdout) as DoctorReport }
}

function writePins(kit: string, peerId: string, cids: string[]) {
  return writePinsFile(indexFilePath(kit, 'pins'), { peerId, cids })
}

describe('ipfs-kit doctor', () => {
  it('on a fresh machine explains every missing piece and exits 1', async () => {
    const home = await makeTempDir('home')
    const { code, report } = await doctor({
      HOME: home,
      IPFS_PATH: undefined,
      IPFS_KIT_PATH: undefined,
      IPFS_KIT_IPFS_BIN: undefined,
      IPFS_KIT_CACHE: undefined,
      XDG_CACHE_HOME: undefined,
      PATH: '/nonexistent',
    })
    assert.equal(code, 1)
    assert.equal(report.ok, false)
    assert.equal(report.ipfs_path, `${home}/.ipfs`)
    assert.equal(report.ipfs_kit_path, `${home}/.ipfs_kit`)
    assert.equal(report.kubo_binary.status, 'fail')
    assert.deepEqual(
      report.kubo_binary.tried.map((t) => [t.source, t.problem]),
      [
        ['npm', 'the optional npm package kubo is not installed'],
        ['path', 'no ipfs on PATH'],
        ['cache', 'not built yet'],
      ],
    )
    assert.match(report.kubo_binary.fix ?? '', /npm run kubo/)
    assert.equal(report.repo.status, 'fail')
    assert.equal(report.repo.initialised, false)
    assert.match(report.repo.fix ?? '', /ipfs-kit daemon start/)
    assert.equal(report.api.status, 'fail')
    assert.match(report.api.fix ?? '', /ipfs-kit daemon start/)
    assert.equal(report.index.status, 'warn')
    assert.deepEqual(
      report.index.files.map((f) => f.status),
      ['missing', 'missing', 'missing', 'missing', 'missing', 'missing'],
    )
    assert.equal(report.config.status, 'ok')
  })

  describe('with a real Kubo', () => {
    let kubo: TestKubo
    before(async () => {
      kubo = await startKubo()
    })
    after(async () => {
      await kubo?.stop()
    })

    it('is usable: binary, repo, API and a valid pins file, with figures from the node', async () => {
      const kit = await makeTempDir('kit')
      const cids = (await kubo.ipfs(['pin', 'ls', '--type=recursive', '--quiet'])).trim().split('\n')
      await writePins(kit, kubo.peerId, cids)
      const env = { IPFS_PATH: kubo.ipfsPath, IPFS_KIT_PATH: kit, IPFS_KIT_IPFS_BIN: await kuboBin() }
      const { code, report } = await doctor(env)
      assert.equal(code, 0, JSON.stringify(report, null, 2))
      assert.equal(report.kubo_binary.source, 'env')
      assert.equal(report.kubo_binary.version, (await kubo.ipfs(['version', '--number'])).trim())
      assert.equal(report.repo.peer_id, kubo.peerId)
      assert.equal(report.repo.locked_by_pid, kubo.daemon.child.pid)
      assert.equal(report.api.answers, true)
      assert.equal(report.api.peer_id, kubo.peerId)
      const pins = report.index.files.find((f) => f.kind === 'pins')
      assert.equal(pins?.status, 'valid')
      assert.equal(pins?.rows, cids.length)
      assert.equal(report.index.status, 'warn')

      const text = await runCli(['doctor'], { env })
      assert.equal(text.code, 0)
      assert.match(text.stdout, new RegExp(`lock: held by pid ${kubo.daemon.child.pid}`))
      assert.match(text.stdout, /ipfs-kit is usable\./)
    })

    it('fails on an index file of another node, naming the reason', async () => {
      const kit = await makeTempDir('kit')
      const other = '12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo'
      await writePins(kit, other, ['QmUNLLsPACCz1vLxQVkXqqLX5R1X345qqfHbsf67hvA3Nn'])
      const { code, report } = await doctor({ IPFS_PATH: kubo.ipfsPath, IPFS_KIT_PATH: kit })
      assert.equal(code, 1)
      assert.equal(report.index.status, 'fail')
      const pins = report.index.files.find((f) => f.kind === 'pins')
      assert.equal(pins?.status, 'invalid')
      assert.match(pins?.reason ?? '', new RegExp(`belongs to peer ${other}`))
    })

    it('checks pins_delta.parquet when there is one, and fails on a damaged one', async () => {
      const kit = await makeTempDir('kit')
      const cids = (await kubo.ipfs(['pin', 'ls', '--type=recursive', '--quiet'])).trim().split('\n')
      await writePins(kit, kubo.peerId, cids)
      const env = { IPFS_PATH: kubo.ipfsPath, IPFS_KIT_PATH: kit, IPFS_KIT_IPFS_BIN: await kuboBin() }
      assert.equal(
        (await doctor(env)).report.index.files.some((f) => f.kind === 'pins_delta'),
        false,
      )
      const header = {
        writer: 'ipfs-kit 0.1.0',
        peerId: kubo.peerId,
        kuboVersion: null,
        generatedAt: new Date(),
      }
      const entry = {
        seq: 1,
        op: 'rm' as const,
        cid: cids[0] as string,
        type: null,
        name: null,
        recorded_at: new Date(),
      }
      await writePinDelta(kit, header, [entry])
      const good = (await doctor(env)).report.index.files.find((f) => f.kind === 'pins_delta')
      assert.equal(good?.status, 'valid')
      assert.equal(good?.rows, 1)
      await writePinDelta(kit, { ...header, writer: 'mock-delta 1.0' }, [entry])
      const { code, report } = await doctor(env)
      assert.equal(code, 1)
      assert.equal(report.index.status, 'fail')
      const bad = report.index.files.find((f) => f.kind === 'pins_delta')
      assert.equal(bad?.status, 'invalid')
      assert.match(bad?.reason ?? '', /writer is "mock-delta 1.0", not ipfs-kit/)
    })

    it('fails when the api file points at a daemon that is gone', async () => {
      const dead = await startKubo({ keepRepo: true })
      dead.daemon.child.kill('SIGKILL')
      await dead.daemon.exited
      try {
        const { code, report } = await doctor({
          IPFS_PATH: dead.ipfsPath,
          IPFS_KIT_PATH: await makeTempDir('kit'),
        })
        assert.equal(code, 1)
        assert.equal(report.repo.status, 'ok')
        assert.equal(report.repo.locked_by_pid, null)
        assert.equal(report.api.answers, false)
        assert.match(report.api.problem ?? '', /not reachable \(ECONNREFUSED\)/)
      } finally {
        await dead.stop()
      }
    })
  })
})
