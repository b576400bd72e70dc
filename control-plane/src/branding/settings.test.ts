import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { contrastRatio, textOn } from './colour'
import { uiSettings } from './settings'
import { readTemplateFolder, TemplateError } from './templates'
import { brandingFrom, logoDataUrl } from './load'

const problems = (ui: unknown) => {
  const r = uiSettings.safeParse(ui)
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`)
}

describe('ui colours', () => {
  it('computes WCAG contrast ratios', () => {
    expect(contrastRatio('#000', '#fff')).toBeCloseTo(21, 5)
    expect(contrastRatio('#777777', '#ffffff')).toBeCloseTo(4.48, 2)
    expect(textOn('#1b5e20')).toBe('#ffffff')
    expect(textOn('#ffd33d')).toBe('#1f2328')
  })

  it('takes readable colours and refuses ones below WCAG AA, naming the key', () => {
    expect(problems({ primaryColour: '#1b5e20', linkColour: '#004d99', linkColourDark: '#79c0ff' })).toEqual([])
    expect(problems({ linkColour: '#777777' })).toEqual([
      'linkColour: contrast 4.48:1 against the background #ffffff is below WCAG AA (4.5:1)',
    ])
    expect(problems({ linkColourDark: '#0550ae' })[0]).toMatch(/^linkColourDark: contrast .* #161b22/)
    // a mid grey reads badly with white and with black text
    expect(problems({ primaryColour: '#808080' })[0]).toMatch(/^primaryColour: contrast .* against its text/)
    expect(problems({ primaryColour: 'red; background:url(x)' })).toEqual([
      'primaryColour: expected a colour as #rgb or #rrggbb',
    ])
  })

  it('bounds the texts', () => {
    expect(problems({ announcement: 'x'.repeat(2001) })).toEqual(['announcement: at most 2000 characters'])
    expect(problems({ siteName: '' })[0]).toMatch(/^siteName:/)
  })
})

describe('the template folder and the logo', () => {
  const dir = mkdtempSync(join(tmpdir(), 'eh-ui-'))
  afterAll(() => rmSync(dir, { recursive: true, force: true }))

  it('reads known blocks with the site name escaped, keeps proxy pages for the proxy, refuses other files', () => {
    const t = join(dir, 't1')
    mkdirSync(t)
    writeFileSync(join(t, 'footer.html'), '<footer>{{site_name}}</footer>')
    writeFileSync(join(t, 'proxy-502.html'), '<h1>{{title}}</h1>')
    const folder = readTemplateFolder(t, 'A & <B>')
    expect(folder.blocks).toEqual({ footer: '<footer>A &amp; &lt;B&gt;</footer>' })
    expect(folder.proxyPages).toEqual({ 502: '<h1>{{title}}</h1>' })
    writeFileSync(join(t, 'page.html'), '')
    expect(() => readTemplateFolder(t, 'x')).toThrow(/^ui.templatePath: .*page.html is not a known template/)
    expect(() => readTemplateFolder(join(dir, 'none'), 'x')).toThrow(TemplateError)
    const big = join(dir, 't2')
    mkdirSync(big)
    writeFileSync(join(big, 'head.html'), 'x'.repeat(64 * 1024 + 1))
    expect(() => readTemplateFolder(big, 'x')).toThrow(/at most 65536 bytes/)
  })

  it('inlines a small logo of a known type and refuses others', () => {
    writeFileSync(join(dir, 'logo.svg'), '<svg xmlns="http://www.w3.org/2000/svg"/>')
    expect(logoDataUrl(join(dir, 'logo.svg'))).toMatch(/^data:image\/svg\+xml;base64,/)
    writeFileSync(join(dir, 'logo.gif'), 'GIF89a')
    expect(() => logoDataUrl(join(dir, 'logo.gif'))).toThrow(/^ui.logo: .* is not a/)
    writeFileSync(join(dir, 'huge.png'), Buffer.alloc(64 * 1024 + 1))
    expect(() => logoDataUrl(join(dir, 'huge.png'))).toThrow(/larger than 65536 bytes/)
    expect(brandingFrom(uiSettings.parse({})).primaryColour).toBe('#a8470f')
  })
})
