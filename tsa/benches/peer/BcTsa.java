// The peer of inkan-tsa-load --peer bc (issue 17): an RFC 3161 TSA made of Bouncy Castle's
// TSP TimeStampResponseGenerator (Debian's libbcpkix-java, BC 1.72) behind the JDK's
// com.sun.net.httpserver.HttpServer. It signs with the same key and certificate as the TSA it
// is compared with, answers POST / with application/timestamp-reply, and keeps no records (no
// durability at all: it is the cost of HTTP, the TSTInfo and the signature alone).
//
// java -cp bcprov.jar:bcpkix.jar:bcutil.jar:DIR BcTsa KEY.pem CHAIN.pem POLICY-OID THREADS
// prints "listening 127.0.0.1:PORT" once it accepts connections on a free loopback port.

import com.sun.net.httpserver.HttpServer;
import java.io.FileInputStream;
import java.io.FileReader;
import java.io.InputStream;
import java.io.OutputStream;
import java.math.BigInteger;
import java.net.InetSocketAddress;
import java.security.PrivateKey;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.Date;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.nist.NISTObjectIdentifiers;
import org.bouncycastle.asn1.pkcs.PrivateKeyInfo;
import org.bouncycastle.asn1.x509.AlgorithmIdentifier;
import org.bouncycastle.cms.jcajce.JcaSimpleSignerInfoGeneratorBuilder;
import org.bouncycastle.openssl.PEMParser;
import org.bouncycastle.openssl.jcajce.JcaPEMKeyConverter;
import org.bouncycastle.operator.jcajce.JcaDigestCalculatorProviderBuilder;
import org.bouncycastle.tsp.TSPAlgorithms;
import org.bouncycastle.tsp.TimeStampRequest;
import org.bouncycastle.tsp.TimeStampResponseGenerator;
import org.bouncycastle.tsp.TimeStampTokenGenerator;

public final class BcTsa {
  public static void main(String[] args) throws Exception {
    if (args.length != 4) {
      System.err.println("usage: BcTsa KEY.pem CHAIN.pem POLICY-OID THREADS");
      System.exit(64);
    }
    PrivateKey key;
    try (PEMParser p = new PEMParser(new FileReader(args[0]))) {
      key = new JcaPEMKeyConverter().getPrivateKey((PrivateKeyInfo) p.readObject());
    }
    X509Certificate cert;
    try (InputStream in = new FileInputStream(args[1])) {
      cert = (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(in);
    }
    ASN1ObjectIdentifier policy = new ASN1ObjectIdentifier(args[2]);
    int threads = Integer.parseInt(args[3]);
    String alg = key.getAlgorithm().startsWith("EC") ? "SHA256withECDSA" : "SHA256withRSA";
    // A JCA Signature is not thread-safe: one generator per handler thread.
    ThreadLocal<TimeStampResponseGenerator> gen =
        ThreadLocal.withInitial(
            () -> {
              try {
                TimeStampTokenGenerator tg =
                    new TimeStampTokenGenerator(
                        new JcaSimpleSignerInfoGeneratorBuilder().build(alg, key, cert),
                        new JcaDigestCalculatorProviderBuilder()
                            .build()
                            .get(new AlgorithmIdentifier(NISTObjectIdentifiers.id_sha256)),
                        policy);
                return new TimeStampResponseGenerator(tg, TSPAlgorithms.ALLOWED);
              } catch (Exception e) {
                throw new IllegalStateException(e);
              }
            });
    AtomicLong serial = new AtomicLong(1);
    HttpServer server = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 1024);
    server.setExecutor(Executors.newFixedThreadPool(threads));
    server.createContext(
        "/",
        ex -> {
          try {
            byte[] body = ex.getRequestBody().readAllBytes();
            byte[] out =
                gen.get()
                    .generate(
                        new TimeStampRequest(body),
                        BigInteger.valueOf(serial.getAndIncrement()),
                        new Date())
                    .getEncoded();
            ex.getResponseHeaders().set("Content-Type", "application/timestamp-reply");
            ex.sendResponseHeaders(200, out.length);
            try (OutputStream os = ex.getResponseBody()) {
              os.write(out);
            }
          } catch (Exception e) {
            ex.sendResponseHeaders(500, -1);
          } finally {
            ex.close();
          }
        });
    server.start();
    System.out.println("listening 127.0.0.1:" + server.getAddress().getPort());
    System.out.flush();
  }
}
