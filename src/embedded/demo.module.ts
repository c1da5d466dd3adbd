import { type DynamicModule, Module } from '@nestjs/common';
import { LoginModule } from '../login/login.module.js';
import { DEMO_CLIENT_ID, DemoLoginController } from './demo-login.controller.js';

/** Embedded mode only: the login-by-QR demo page, acting as the demo client. */
@Module({})
export class DemoModule {
  static forRoot(demoClientId: string): DynamicModule {
    return {
      module: DemoModule,
      imports: [LoginModule],
      controllers: [DemoLoginController],
      providers: [{ provide: DEMO_CLIENT_ID, useValue: demoClientId }],
    };
  }
}
