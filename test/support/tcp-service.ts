import type { INestMicroservice } from '@nestjs/common';
import { type ClientProxy, ClientProxyFactory, Transport } from '@nestjs/microservices';
import type { TestingModule } from '@nestjs/testing';
import { freePort } from '../callback/callback-test-app';

/** A compiled module served as a TCP microservice on loopback, and a connected client for it. */
export interface TcpService {
  service: INestMicroservice;
  client: ClientProxy;
  close(): Promise<void>;
}

export async function startTcpService(moduleRef: TestingModule): Promise<TcpService> {
  const port = await freePort();
  const service = moduleRef.createNestMicroservice({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  await service.listen();
  const client = ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  });
  await client.connect();
  return {
    service,
    client,
    close: async () => {
      await client.close();
      await service.close();
    },
  };
}
