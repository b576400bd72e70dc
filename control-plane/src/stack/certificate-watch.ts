// TLS at the edge (proxy.tls): the files checked before a proxy starts, and watched while it runs so
// a renewed certificate is served without a restart. A renewal tool (certbot, cert-manager, an
// operator's copy) writes the new pair; the next look sees other bytes and reloads nginx, which
// checks the pair with `nginx -t` first: a half-written or mismatched pair is logged and the old one
// kept, and the look after that tries again.
import { createHash } from 'node:crypto'
import { accessSync, constants, readFileSync } from 'node:fs'
import type { Logger } from '../../../runtime/src/log'

export interface CertificateFiles {
  certFile: string
  keyFile: string
}

/** One line naming the setting whose file this process cannot read, or undefined when both can be read. */
export function certificateFileProblem(files: CertificateFiles): string | undefined {
  for (const key of ['certFile', 'keyFile'] as const) {
    try {
      accessSync(files[key], constants.R_OK)
    } catch (err) {
      return `proxy.tls.${key}: cannot read ${files[key]} (${(err as NodeJS.ErrnoException).code ?? 'error'})`
    }
  }
  return undefined
}

/** A digest of both files' bytes; undefined while either cannot be read. */
export function certificateFingerprint(files: CertificateFiles): string | undefined {
  try {
    const h = createHash('sha256')
    for (const f of [files.certFile, files.keyFile]) h.update(readFileSync(f)).update('\0')
    return h.digest('hex')
  } catch {
    return undefined
  }
}

/**
 * Looks at the pair every everySec seconds and calls reload when its bytes differ from those last
 * served. A failed reload is logged and tried again at the next look. Returns a stop function.
 */
export function watchCertificate(
  files: CertificateFiles,
  everySec: number,
  reload: () => Promise<void>,
  log: Logger,
): () => void {
  let served = certificateFingerprint(files)
  let busy = false
  const timer = setInterval(() => {
    if (busy) return
    const now = certificateFingerprint(files)
    if (now === undefined || now === served) return
    busy = true
    reload()
      .then(() => {
        served = now
        log.info('reloaded for a new TLS certificate', { cert_file: files.certFile })
      })
      .catch((err: Error) =>
        log.error('a changed TLS certificate was not loaded; still serving the previous one', {
          cert_file: files.certFile,
          err: err.message.split('\n').slice(0, 3).join(' '),
        }),
      )
      .finally(() => {
        busy = false
      })
  }, everySec * 1000)
  timer.unref()
  return () => clearInterval(timer)
}
