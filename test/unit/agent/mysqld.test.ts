import assert from 'node:assert/strict';
import { describe, it } from 'node:test';

import { parseMysqldVersion } from '../../../src/agent/mysqld.ts';

describe('parseMysqldVersion', () => {
  const cases: { name: string; out: string; want: ReturnType<typeof parseMysqldVersion> }[] = [
    {
      name: 'MariaDB 10.11 from Debian',
      out: 'mysqld  Ver 10.11.19-MariaDB-0+deb12u1 for debian-linux-gnu on x86_64 (Debian 12)\n',
      want: { flavor: 'mariadb', version: '10.11.19' },
    },
    {
      name: 'MariaDB 11.4 as mariadbd',
      out: '/usr/sbin/mariadbd  Ver 11.4.5-MariaDB-ubu2404 for debian-linux-gnu on x86_64 (mariadb.org binary distribution)\n',
      want: { flavor: 'mariadb', version: '11.4.5' },
    },
    {
      name: 'MySQL 8.4 Community Server',
      out: '/usr/sbin/mysqld  Ver 8.4.4 for Linux on x86_64 (MySQL Community Server - GPL)\n',
      want: { flavor: 'mysql', version: '8.4.4' },
    },
    {
      name: 'MySQL 8.0 from Ubuntu',
      out: '/usr/sbin/mysqld  Ver 8.0.36-0ubuntu0.22.04.1 for Linux on x86_64 ((Ubuntu))\n',
      want: { flavor: 'mysql', version: '8.0.36' },
    },
    { name: 'garbage', out: 'command not found: mysqld', want: undefined },
    { name: 'empty output', out: '', want: undefined },
    { name: 'a version without a patch number', out: 'mysqld  Ver 8.4 for Linux', want: undefined },
  ];
  for (const c of cases) it(c.name, () => assert.deepEqual(parseMysqldVersion(c.out), c.want));
});
