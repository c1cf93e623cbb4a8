/**
 * The junit.xml reader decides whether conformance passed, so it must see every failure and
 * skip the suite writes. The sample below has the shape Go's encoding/xml gives the suite's
 * report (entities for quotes and newlines, status attributes, system-out/system-err).
 */
import { describe, expect, it } from 'vitest';
import { decodeXmlText, parseJunit } from '../helpers/junit';

const SAMPLE = `<testsuites time="1.0" tests="6" failures="1" skipped="1">
  <testsuite name="OCI Conformance Test" tests="6" failures="1" errors="0" skipped="1" time="1.0">
    <properties><property name="Config" value="registry: x&#xA;"></property></properties>
    <testcase name="OCI Conformance Test/ping" classname="" time="0.01" status="passed">
      <system-err>~~~ REQUEST ~~~&#xA;Method: GET</system-err>
    </testcase>
    <testcase name="OCI Conformance Test/sha512 blobs/post+put/blob-post-put" classname="" time="0.02" status="failure">
      <system-out>Docker-Content-Digest header value expected &#34;sha512:aa&#34;, received &#34;sha256:bb&#34;</system-out>
      <system-err>Method: PUT&#xA;Status: 201</system-err>
    </testcase>
    <testcase name="OCI Conformance Test/image/delete/tag-delete" classname="" time="0.01" status="skipped">
      <system-out>registry returned status 400</system-out>
    </testcase>
    <testcase name="OCI Conformance Test/engine" classname="" status="error"></testcase>
    <testcase name="classic &amp; failing"><failure message="boom &lt;here&gt;"></failure></testcase>
    <testcase name="classic passing"/>
  </testsuite>
</testsuites>`;

describe('test/helpers/junit.ts', () => {
  it('reads each testcase with its status, reason and trace', () => {
    const report = parseJunit(SAMPLE);
    expect(report.cases.map((c) => [c.name, c.status])).toEqual([
      ['OCI Conformance Test/ping', 'passed'],
      ['OCI Conformance Test/sha512 blobs/post+put/blob-post-put', 'failure'],
      ['OCI Conformance Test/image/delete/tag-delete', 'skipped'],
      ['OCI Conformance Test/engine', 'error'],
      ['classic & failing', 'failure'],
      ['classic passing', 'passed'],
    ]);
    expect(report.counts).toEqual({ passed: 2, failure: 2, error: 1, skipped: 1 });
    expect(report.cases[1].message).toBe('Docker-Content-Digest header value expected "sha512:aa", received "sha256:bb"');
    expect(report.cases[1].trace).toBe('Method: PUT\nStatus: 201');
    expect(report.cases[4].message).toBe('boom <here>');
  });

  it('decodes the entities Go writes', () => {
    expect(decodeXmlText('a&#xA;b&#34;c&#39;d&amp;e&lt;f&gt;&#9;')).toBe('a\nb"c\'d&e<f>\t');
  });
});
