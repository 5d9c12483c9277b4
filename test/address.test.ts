// Kubo API multiaddrs as found in `api` files and config, and the ones we refuse.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { UsageError } from '../src/errors.js'
import { describeAddress, parseApiMultiaddr } from '../src/kubo/address.js'

describe('parseApiMultiaddr', () => {
  const good: Array<[string, string]> = [
    ['/ip4/127.0.0.1/tcp/5001', '127.0.0.1:5001'],
    ['/ip4/127.0.0.1/tcp/5001\n', '127.0.0.1:5001'],
    ['/ip6/::1/tcp/5001', '[::1]:5001'],
    ['/dns/localhost/tcp/5001', 'localhost:5001'],
    ['/dns4/localhost/tcp/45001/http', 'localhost:45001'],
    ['/dns6/ip6-localhost/tcp/5001', 'ip6-localhost:5001'],
    ['/unix/run/user/1000/ipfs api.sock', 'unix:/run/user/1000/ipfs api.sock'],
    ['/unix/tmp%2Fx.sock', 'unix:/tmp/x.sock'],
  ]
  for (const [text, shown] of good) {
    it(`accepts ${JSON.stringify(text)}`, () => {
      assert.equal(describeAddress(parseApiMultiaddr(text)), shown)
    })
  }
  const bad: Array<[string, RegExp]> = [
    ['127.0.0.1:5001', /starts with \//],
    ['/ip4/127.0.0.1/udp/5001', /only TCP/],
    ['/ip4/127.0.0.1/tcp/99999', /invalid TCP port/],
    ['/ip4/127.0.0.1/tcp/abc', /invalid TCP port/],
    ['/ip4/127.0.0.1/tcp/5001/https', /only plain HTTP/],
    ['/p2p/12D3KooW/tcp/1', /unsupported protocol/],
    ['/unix', /needs a socket path/],
    ['/ip4', /needs an address/],
  ]
  for (const [text, why] of bad) {
    it(`refuses ${JSON.stringify(text)} with a reason`, () => {
      assert.throws(
        () => parseApiMultiaddr(text),
        (err: unknown) => err instanceof UsageError && why.test(err.message),
      )
    })
  }
})
