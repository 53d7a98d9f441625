<?xml version="1.0" encoding="UTF-8"?>
<!-- How a browser shows dropfeed's RSS and Atom feeds to a person: what a feed is, how to
     subscribe, the latest entries. Feed readers ignore it. -->
<xsl:stylesheet version="1.0" xmlns:xsl="http://www.w3.org/1999/XSL/Transform"
  xmlns:atom="http://www.w3.org/2005/Atom" exclude-result-prefixes="atom">
<xsl:output method="html" encoding="UTF-8" indent="yes" doctype-system="about:legacy-compat"/>
<xsl:variable name="title" select="/rss/channel/title | /atom:feed/atom:title"/>
<xsl:variable name="home" select="/rss/channel/link | /atom:feed/atom:link[@rel='alternate']/@href"/>
<xsl:variable name="self" select="/rss/channel/atom:link[@rel='self']/@href | /atom:feed/atom:link[@rel='self']/@href"/>
<xsl:template match="/">
<html lang="@@LANG@@">
<head>
<meta charset="utf-8"/>
<meta name="viewport" content="width=device-width, initial-scale=1"/>
<title><xsl:value-of select="$title"/></title>
<style>
body{max-width:42rem;margin:0 auto;padding:1rem;font:1.05rem/1.6 system-ui,sans-serif;color:#222;background:#fdfdfc}
a{color:#0b57a4}time{color:#666}header{color:#555}h1{color:#222}
.note{background:#fff4d6;border:1px solid #e8d08a;padding:.5rem .75rem;border-radius:.3rem}
.address{display:block;overflow-wrap:anywhere;background:#f3f3f1;padding:.5rem .75rem;font-size:.95rem}
ol{padding-left:1.25rem}li{margin:.4rem 0}
@media(prefers-color-scheme:dark){body{background:#1b1b1b;color:#ddd}h1{color:#eee}a{color:#8ab4f8}.note{background:#3a3420;border-color:#6b5d2d}.address{background:#2a2a2a}header,time{color:#aaa}}
</style>
</head>
<body>
<header>
<p class="note">@@FEED_IS@@</p>
<h1><xsl:value-of select="$title"/></h1>
<p><xsl:value-of select="/rss/channel/description | /atom:feed/atom:subtitle"/></p>
</header>
<main>
<section>
<h2>@@SUBSCRIBE@@</h2>
<p>@@SUBSCRIBE_HOW@@</p>
<code class="address"><xsl:value-of select="$self"/></code>
</section>
<section>
<h2>@@LATEST@@</h2>
<ol>
<xsl:for-each select="/rss/channel/item[position() &lt;= 20]">
<li><a href="{link}"><xsl:value-of select="title"/></a><xsl:text> </xsl:text><time><xsl:value-of select="substring(pubDate, 1, 16)"/></time></li>
</xsl:for-each>
<xsl:for-each select="/atom:feed/atom:entry[position() &lt;= 20]">
<li><a href="{atom:link[not(@rel) or @rel='alternate']/@href}"><xsl:value-of select="atom:title"/></a><xsl:text> </xsl:text><time><xsl:value-of select="substring(atom:published | atom:updated, 1, 10)"/></time></li>
</xsl:for-each>
</ol>
<p><a href="{$home}">@@HOME@@</a></p>
</section>
</main>
</body>
</html>
</xsl:template>
</xsl:stylesheet>
